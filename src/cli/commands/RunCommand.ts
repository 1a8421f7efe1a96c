import { Command, Option } from 'clipanion';
import { isThreadCount } from '../../config/validators.js';
import { BaseCommand } from '../BaseCommand.js';

/** `abl-audit run`: an audit declared in a pipeline file, with gates. */
export class RunCommand extends BaseCommand {
  static override paths = [['run']];
  static override usage = Command.Usage({
    category: 'Audit',
    description: 'run the audit a pipeline file declares, and check its gates',
    details: `
      Reads PIPELINE (YAML, schema in pipelines/README.md): inputs, stage parameters, output folder and gates. Paths in it are relative to the file's folder. Unknown or invalid keys are errors (exit code 2) that name the key.

      Runs the same audit as \`abl-audit audit\`, writes every output, then checks the gates: \`fail_if_quarantine_fraction_above\`, \`fail_if_attack_success_above\`, \`fail_if_clean_accuracy_below\`, \`fail_if_poison_found\` (the verdict is poison-found), \`fail_if_source_quarantine_above\` (a source with more than that share of its rows quarantined, named). A failed gate is printed with its value and threshold, recorded in report.json, and makes the command exit with code 3 — so a scheduled retraining job stops before a bad model ships.
    `,
    examples: [
      ['The README demo: audit the BadNets fixture', '$0 run pipelines/demo.yaml'],
      [
        'Write somewhere else, continuing an interrupted run',
        '$0 run pipelines/demo.yaml --out /tmp/demo --resume',
      ],
      ['Train on one thread only', '$0 run pipelines/demo.yaml --threads 1'],
    ],
  });

  pipeline = Option.String({ name: 'pipeline' });
  out = Option.String('--out', { description: "Output folder (default: the pipeline's `output`)" });
  force = Option.Boolean('--force', false, {
    description:
      'Write into an output folder that holds files abl-audit did not write (the outputs an audit writes there are replaced; other files are kept)',
  });
  resume = Option.Boolean('--resume', false, {
    description: 'Continue an interrupted run from its last checkpoint',
  });
  threads = Option.String('--threads', {
    description:
      "Threads to split each batch across on wasm/cpu: auto or 1-64 (default: the pipeline's `threads`, else auto)",
    validator: isThreadCount(),
  });

  protected async run(): Promise<number> {
    // An invalid pipeline file is reported before TensorFlow.js loads (below), which takes seconds.
    const { loadPipeline } = await import('../../config/loadPipeline.js');
    const loaded = await loadPipeline(this.pipeline, { out: this.out, force: this.force });
    const { name } = loaded;
    // Threads are a property of the machine running the pipeline, so the command line may override the file.
    const config = this.threads === undefined ? loaded.config : { ...loaded.config, threads: this.threads };
    this.output.info(`pipeline ${name}: ${config.train} → ${config.out}`, {
      pipeline: name,
      train: config.train,
      out: config.out,
    });
    const { runAuditForCli } = await import('../runAuditCommand.js');
    return runAuditForCli(config, { output: this.output, resume: this.resume });
  }
}
