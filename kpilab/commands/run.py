"""``kpilab run TARGET [-p name value ...] [-f params.yaml]``: execute notebooks into outputs/<run_id>/."""

from __future__ import annotations

import argparse

from kpilab.run import execute, load_params_file, parse_cli_value

NAME = "run"
HELP = "Run the review pipeline (or one notebook) with papermill into a new outputs/<run_id>/ folder."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="pipeline name ('review') or a notebook path")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="set a notebook parameter (numbers and true/false are converted)")
    parser.add_argument("-r", "--raw-parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="set a parameter as a raw string")
    parser.add_argument("-f", "--parameters-file", help="YAML file of parameters, or an earlier run.json to replay")
    parser.add_argument("--name", help="short name appended to the run id (default: the target)")
    parser.add_argument("--output-root", help="folder holding run folders (default: outputs/)")
    parser.add_argument("--kernel", help="Jupyter kernel (default: $KPILAB_KERNEL, 'kpilab' if registered, python3)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell (default 1800)")
    parser.add_argument("--fresh-kernels", action="store_true",
                        help="start a new kernel for each notebook (default: one kernel, reset between notebooks)")
    parser.add_argument("--log-output", action="store_true", help="stream notebook output to the terminal")
    parser.add_argument("--previous-run", help="run folder of the previous review: writes diff/ (what changed)")
    parser.add_argument("--actions", help="actions file agreed at the previous review (see data/actions_example.yaml); "
                                          "each is reported done / not done")
    parser.add_argument("--pseudonymise", action="store_true",
                        help="replace agent ids and names with keyed pseudonyms everywhere in the run folder "
                             "(key from $KPILAB_PSEUDONYM_KEY or --pseudonym-key-file)")
    parser.add_argument("--pseudonym-key-file", help="file holding the pseudonym key (never inside outputs/)")
    parser.add_argument("--pseudonym-map", help="write the id -> pseudonym mapping to this CSV (outside outputs/)")


def run(args: argparse.Namespace) -> int:
    params = load_params_file(args.parameters_file) if args.parameters_file else {}
    params.update({k: parse_cli_value(v) for k, v in args.parameter})
    params.update(dict(args.raw_parameter))
    for opt, key in (("previous_run", "previous_run"), ("actions", "actions"),
                     ("pseudonym_key_file", "pseudonym_key_file")):
        if getattr(args, opt):
            params[key] = getattr(args, opt)
    if args.pseudonymise:
        params["pseudonymise"] = True
    result = execute(args.target, params, name=args.name, output_root=args.output_root, kernel=args.kernel,
                     execution_timeout=args.timeout, log_output=args.log_output, pseudonym_map=args.pseudonym_map,
                     shared_kernel=not args.fresh_kernels)
    for step in result.record["steps"]:
        print(f"  {step['step']:<28} {step['status']:<10} {step['seconds']:>7.1f} s")
    print(f"run folder: {result.run_dir}")
    print(f"report:     {result.report}")
    return 0
