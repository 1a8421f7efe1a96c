/** Sizes of what the report's figures embed: pages stay small whatever the images' size. */

/** Largest side, in pixels, of an image embedded in the page: a page of 40 photos stays small. */
export const MAX_EMBEDDED_SIDE = 128;

/** The heat map is at most this many cells a side; larger images are block-averaged down. */
export const MAX_HEATMAP_SIDE = 64;

/** Thumbnails shown unless told otherwise. */
export const DEFAULT_THUMBNAILS = 40;

/** Histogram bins unless told otherwise. */
export const DEFAULT_SCORE_BINS = 40;
