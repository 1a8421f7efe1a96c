export { packageVersion } from '../util/packageVersions.js';
