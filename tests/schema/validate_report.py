#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# DOC: kmem reports checked against their JSON Schema (docs/report-schema.json)
# with python3-jsonschema (Debian's; scripts/deps installs it).
#
#   validate_report.py [--schema FILE] REPORT...     each REPORT: a JSON file, or any
#                                                    text with a KMEM-JSON line (a serial log)
#   validate_report.py [--schema FILE] --doc FILE    every key the schema names is documented
#                                                    in FILE (docs/report-schema.md) as `key`
#
# Prints one line per problem and exits 1 if there is any; a missing
# jsonschema module is a failure, not a skip.
import argparse
import json
import os
import re
import sys

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "report-schema.json")


def report_text(path):
    """The report in a file, as kmem-sim --from reads it: the whole file, or the last KMEM-JSON line."""
    text = open(path, encoding="utf-8", errors="replace").read()
    if text.lstrip().startswith("{"):
        return text
    at = text.rfind("KMEM-JSON ")
    if at < 0:
        raise ValueError("no kmem report in it (neither a JSON object nor a line with KMEM-JSON)")
    return text[at + len("KMEM-JSON "):].split("\n", 1)[0].rstrip("\r ")


def schema_keys(node, out):
    """Every property name the schema defines, anywhere in it."""
    if isinstance(node, dict):
        for k, v in node.get("properties", {}).items():
            out.add(k)
            schema_keys(v, out)
        for k, v in node.items():
            if k != "properties":
                schema_keys(v, out)
    elif isinstance(node, list):
        for v in node:
            schema_keys(v, out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", default=SCHEMA)
    ap.add_argument("--doc")
    ap.add_argument("reports", nargs="*")
    o = ap.parse_args()
    schema = json.load(open(o.schema))
    problems = []
    if o.doc:
        doc = open(o.doc, encoding="utf-8").read()
        documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", doc))
        for k in sorted(schema_keys(schema, set()) - documented):
            problems.append(f"{o.doc}: the schema's key {k} is not documented (as `{k}`)")
    if o.reports:
        try:
            import jsonschema
        except ImportError:
            print("validate_report.py: the python3 module jsonschema is missing (Debian: apt-get install "
                  "python3-jsonschema; scripts/deps installs it)", file=sys.stderr)
            return 1
        validator = jsonschema.Draft7Validator(schema)
        for path in o.reports:
            try:
                report = json.loads(report_text(path))
            except (OSError, ValueError) as e:
                problems.append(f"{path}: {e}")
                continue
            errors = sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))
            for e in errors[:20]:
                where = ".".join(str(p) for p in e.absolute_path) or "(top)"
                problems.append(f"{path}: {where}: {e.message[:300]}")
            if not errors:
                print(f"{path}: a valid {report.get('schema')} report")
    for p in problems:
        print("FAIL: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
