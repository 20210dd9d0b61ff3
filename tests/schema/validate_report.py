#!/usr/bin/python3
"""Validates waitscope report.json files against the report contract's JSON Schema.

Usage: validate_report.py SCHEMA REPORT...

Prints every violation as "REPORT: $.json.path: message" and exits 1 when any
report is invalid (or unreadable), 0 when all are valid. Uses Debian's
python3-jsonschema (Draft 2020-12), so run it with /usr/bin/python3.
"""

import json
import sys

from jsonschema import Draft202012Validator


def json_path(error):
    # ValidationError.json_path exists from jsonschema 4.0; build it by hand
    # so older releases print the same thing.
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    schema_path, report_paths = argv[1], argv[2:]
    try:
        schema = load(schema_path)
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # noqa: BLE001 - any failure here is a usage error
        print(f"{schema_path}: not a usable schema: {e}", file=sys.stderr)
        return 2
    validator = Draft202012Validator(schema)
    failed = False
    for report_path in report_paths:
        try:
            report = load(report_path)
        except (OSError, ValueError) as e:
            print(f"{report_path}: cannot read: {e}")
            failed = True
            continue
        errors = sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))
        for error in errors:
            print(f"{report_path}: {json_path(error)}: {error.message}")
        if errors:
            failed = True
        else:
            print(f"{report_path}: valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
