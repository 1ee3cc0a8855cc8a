#!/usr/bin/python3
"""Build step: convert openapi.yaml to compact JSON embedded as a C array.

Usage: yaml2c.py openapi.yaml out.c
Fails the build when the YAML does not parse or is not an OpenAPI 3.1 document.
"""
import json
import sys

import yaml


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3.1"):
        sys.exit(f"{src}: not an OpenAPI 3.1 document")
    data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    with open(out, "w", encoding="ascii") as f:
        f.write("/* Generated from openapi.yaml by yaml2c.py; do not edit. */\n")
        f.write("#include \"openapi/openapi.h\"\n")
        f.write("const char openapi_json[] = {\n")
        for i in range(0, len(data), 24):
            f.write(",".join(str(b) for b in data[i:i + 24]) + ",\n")
        f.write("0};\n")
        f.write(f"const size_t openapi_json_len = {len(data)};\n")


if __name__ == "__main__":
    main()
