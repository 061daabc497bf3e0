#!/usr/bin/python3
"""Validates a YAML or JSON document against a JSON schema (YAML or JSON; draft 2020-12
unless the schema's $schema names another) with Debian's python3-jsonschema. Prints one
line per error (path: message). Exit 0 valid, 1 invalid, 2 bad input."""
import sys

import jsonschema
import yaml


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        print(f"validate_json_schema: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)


def main():
    if len(sys.argv) != 3:
        print("usage: validate_json_schema.py SCHEMA DOCUMENT", file=sys.stderr)
        return 2
    schema, document = load(sys.argv[1]), load(sys.argv[2])
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for e in errors:
        path = ".".join(str(p) for p in e.absolute_path) or "(root)"
        print(f"{path}: {e.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
