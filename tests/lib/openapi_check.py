"""Checks HTTP responses against openapi/openapi.yaml.

Two parts:
- validate(instance, schema, spec): a JSON Schema validator for the subset
  of JSON Schema 2020-12 the spec uses: type (also type arrays), required,
  properties, additionalProperties, patternProperties, enum, const, items,
  prefixItems, $ref to '#/...', allOf/oneOf/anyOf/not, minimum/maximum,
  exclusiveMinimum/exclusiveMaximum, minLength/maxLength, minItems/maxItems,
  pattern, format date-time/uri/email. Returns a list of error strings
  ("$.items[0].id: ..."), empty when the instance is valid. strict=True
  also refuses properties an object schema does not list when it says
  nothing about additionalProperties (an undocumented field: the code
  and the contract drifted apart), which JSON Schema itself allows.
- check_response(spec, method, path, status, content_type, body): finds the
  operation for (method, path template, status) and validates the body
  against its schema. A response whose path, method or status is not in the
  spec is a mismatch, with these exceptions, which are the server's generic
  answers to requests outside the contract and are checked as Problem:
  404 for a path the spec does not have, 405 for a method the spec does not
  list on a known path, 400 for a path with an encoded NUL byte, and OPTIONS
  (CORS preflight: 204, or 403 Problem).

Used by tests/lib/harness.py when FW_VALIDATE_RESPONSES=1, and by
tests/integration/test_openapi.py. Standard library + python3-yaml only.
"""
import json
import os
import re
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC_PATH = os.path.join(ROOT, "openapi", "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_spec_cache = {}
_spec_lock = threading.Lock()

DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
FORMATS = {
    "date-time": DATE_TIME,
    "uri": re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$"),
    "email": re.compile(r"^[^@\s]+@[^@\s]+$"),
}


def load_spec(path=SPEC_PATH):
    """The spec as a dict (parsed once per path and cached)."""
    with _spec_lock:
        if path not in _spec_cache:
            import yaml
            with open(path, encoding="utf-8") as f:
                _spec_cache[path] = yaml.safe_load(f)
        return _spec_cache[path]


def resolve(spec, ref):
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref are supported: {ref}")
    node = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def deref(spec, obj):
    """Follows $ref chains on a non-schema object (response, parameter)."""
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj:
        obj = resolve(spec, obj["$ref"])
        seen += 1
        if seen > 20:
            raise ValueError("$ref loop")
    return obj


def _type_ok(value, t):
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    raise ValueError(f"unknown type {t!r} in schema")


def _short(v):
    s = json.dumps(v)
    return s if len(s) <= 60 else s[:57] + "..."


def validate(instance, schema, spec, where="$", strict=False):
    """Errors of instance against schema (a list of strings; empty = valid)."""
    errs = []
    _validate(instance, schema, spec, where, errs, 0, strict)
    return errs


def _validate(v, s, spec, where, errs, depth, strict=False):
    if depth > 64:
        errs.append(f"{where}: schema nesting too deep")
        return
    if s is True or s == {}:
        return
    if s is False:
        errs.append(f"{where}: no value is allowed here")
        return
    if "$ref" in s:
        _validate(v, resolve(spec, s["$ref"]), spec, where, errs, depth + 1, strict)
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(_type_ok(v, t) for t in types):
            errs.append(f"{where}: {_short(v)} is not of type {'/'.join(types)}")
            return
    if "const" in s and v != s["const"]:
        errs.append(f"{where}: {_short(v)} is not {_short(s['const'])}")
    if "enum" in s and v not in s["enum"]:
        errs.append(f"{where}: {_short(v)} is not one of {s['enum']}")
    for sub in s.get("allOf", []):
        _validate(v, sub, spec, where, errs, depth + 1, strict)
    if "anyOf" in s:
        if not any(not validate_sub(v, sub, spec, where, depth, strict) for sub in s["anyOf"]):
            errs.append(f"{where}: matches none of anyOf")
    if "oneOf" in s:
        n = sum(1 for sub in s["oneOf"] if not validate_sub(v, sub, spec, where, depth, strict))
        if n != 1:
            errs.append(f"{where}: matches {n} of oneOf (exactly one needed)")
    if "not" in s and not validate_sub(v, s["not"], spec, where, depth):
        errs.append(f"{where}: matches the 'not' schema")
    if isinstance(v, str):
        _string(v, s, where, errs)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        _number(v, s, where, errs)
    elif isinstance(v, list):
        _array(v, s, spec, where, errs, depth, strict)
    elif isinstance(v, dict):
        _object(v, s, spec, where, errs, depth, strict)


def validate_sub(v, s, spec, where, depth, strict=False):
    errs = []
    _validate(v, s, spec, where, errs, depth + 1, strict)
    return errs


def _string(v, s, where, errs):
    if "minLength" in s and len(v) < s["minLength"]:
        errs.append(f"{where}: {_short(v)} is shorter than {s['minLength']}")
    if "maxLength" in s and len(v) > s["maxLength"]:
        errs.append(f"{where}: {_short(v)} is longer than {s['maxLength']}")
    if "pattern" in s and not re.search(s["pattern"], v):
        errs.append(f"{where}: {_short(v)} does not match {s['pattern']}")
    fmt = FORMATS.get(s.get("format"))
    if fmt and not fmt.match(v):
        errs.append(f"{where}: {_short(v)} is not a {s['format']}")


def _number(v, s, where, errs):
    if "minimum" in s and v < s["minimum"]:
        errs.append(f"{where}: {v} is less than {s['minimum']}")
    if "maximum" in s and v > s["maximum"]:
        errs.append(f"{where}: {v} is more than {s['maximum']}")
    if "exclusiveMinimum" in s and v <= s["exclusiveMinimum"]:
        errs.append(f"{where}: {v} is not more than {s['exclusiveMinimum']}")
    if "exclusiveMaximum" in s and v >= s["exclusiveMaximum"]:
        errs.append(f"{where}: {v} is not less than {s['exclusiveMaximum']}")


def _array(v, s, spec, where, errs, depth, strict):
    if "minItems" in s and len(v) < s["minItems"]:
        errs.append(f"{where}: fewer than {s['minItems']} items")
    if "maxItems" in s and len(v) > s["maxItems"]:
        errs.append(f"{where}: more than {s['maxItems']} items")
    prefix = s.get("prefixItems", [])
    for i, item in enumerate(v):
        sub = prefix[i] if i < len(prefix) else s.get("items")
        if sub is not None:
            _validate(item, sub, spec, f"{where}[{i}]", errs, depth + 1, strict)


def _object(v, s, spec, where, errs, depth, strict):
    for k in s.get("required", []):
        if k not in v:
            errs.append(f"{where}: required property {k!r} is missing")
    props = s.get("properties", {})
    pattern_props = s.get("patternProperties", {})
    extra = s.get("additionalProperties", True)
    for k, item in v.items():
        matched = False
        if k in props:
            matched = True
            _validate(item, props[k], spec, f"{where}.{k}", errs, depth + 1, strict)
        for pat, sub in pattern_props.items():
            if re.search(pat, k):
                matched = True
                _validate(item, sub, spec, f"{where}.{k}", errs, depth + 1, strict)
        if matched:
            continue
        if extra is False:
            errs.append(f"{where}: property {k!r} is not allowed")
        elif isinstance(extra, dict):
            _validate(item, extra, spec, f"{where}.{k}", errs, depth + 1, strict)
        elif strict and props and "additionalProperties" not in s and not _composed(s):
            errs.append(f"{where}: property {k!r} is not in the spec (document it)")


def _composed(s):
    return any(k in s for k in ("$ref", "allOf", "anyOf", "oneOf"))


# ---- routing a response to its place in the spec ----

def match_path(spec, path):
    """The spec's path template for a concrete path (query stripped), or None.

    Templates with more literal segments win ("/v1/templates/validate" over
    "/v1/templates/{name}"), as the server's table order does.
    """
    path = path.split("?", 1)[0]
    segs = path.split("/")
    best, best_score = None, -1
    for tmpl in spec.get("paths", {}):
        tsegs = tmpl.split("/")
        if len(tsegs) != len(segs):
            continue
        score = 0
        for t, p in zip(tsegs, segs):
            if t.startswith("{") and t.endswith("}"):
                if not p:
                    break
            elif t != p:
                break
            else:
                score += 1
        else:
            if score > best_score:
                best, best_score = tmpl, score
    return best


def _media(content_type):
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(media):
    return media == "application/json" or media.endswith("+json")


def _problem_check(spec, status, content_type, body, what, strict=False):
    media = _media(content_type)
    if status in (204, 304) or not body:
        return []
    if media != "application/problem+json":
        return [f"{what}: expected application/problem+json, got {content_type!r}"]
    return _body_errors(spec, {"$ref": "#/components/schemas/Problem"}, body, what, strict)


def _body_errors(spec, schema, body, what, strict=False):
    try:
        doc = json.loads(body)
    except ValueError as e:
        return [f"{what}: body is not JSON ({e})"]
    return [f"{what}: {e}" for e in validate(doc, schema, spec, strict=strict)]


def find_response(spec, op, status):
    """The response object for status: exact code, then 4XX/5XX, then default."""
    responses = op.get("responses", {})
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in responses:
            return deref(spec, responses[key])
    return None


def check_response(spec, method, path, status, content_type, body, strict=False):
    """Mismatches (list of strings) of one response against the spec (strict: see validate)."""
    method = method.upper()
    what = f"{method} {path.split('?', 1)[0]} -> {status}"
    tmpl = match_path(spec, path)
    if tmpl is None:
        # 404 for an unknown path; 400 for a request target the server refuses
        # before routing (an encoded NUL byte).
        if status == 404 or (status == 400 and "%00" in path):
            return _problem_check(spec, status, content_type, body, what, strict)
        return [f"{what}: path is not in the spec"]
    ops = spec["paths"][tmpl]
    what = f"{method} {tmpl} -> {status}"
    look = "GET" if method == "HEAD" and "head" not in ops else method
    op = ops.get(look.lower())
    if op is None:
        if method == "OPTIONS" or status == 405:
            return _problem_check(spec, status, content_type, body, what, strict)
        return [f"{what}: method is not in the spec for this path"]
    if method == "HEAD" and status == 405:
        # a GET that takes something (the one-time claim bundle) refuses HEAD: the general
        # wrong-method rule (405 with Allow), like a method the path does not have
        return []
    resp = find_response(spec, op, status)
    if resp is None:
        return [f"{what}: status is not in the spec (documented: {', '.join(op.get('responses', {}))})"]
    if method == "HEAD":
        return []
    content = resp.get("content") or {}
    media = _media(content_type)
    if not content:
        if body:
            return [f"{what}: the spec documents no body, got {len(body)} bytes of {content_type!r}"]
        return []
    if media not in content:
        wild = [m for m in content if m.endswith("/*") and media.startswith(m[:-1])] + \
            [m for m in content if m == "*/*"]
        if not wild:
            return [f"{what}: content type {content_type!r} is not in the spec ({', '.join(content)})"]
        media = wild[0]
    schema = content[media].get("schema")
    if schema is None or not _is_json(media):
        return []
    return _body_errors(spec, schema, body, what, strict)


def record(path_file, method, path, status, content_type, body, spec=None, strict=False):
    """Checks one response; appends each mismatch as a JSON line to path_file.

    Returns the mismatches. Never raises on a bad response; an internal error
    of the checker itself is recorded as a mismatch too.
    """
    try:
        spec = spec or load_spec()
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        errs = check_response(spec, method, path, status, content_type, body, strict)
    except Exception as e:  # noqa: BLE001 - a checker bug must show, not hide
        errs = [f"{method} {path} -> {status}: checker error {e!r}"]
    if errs:
        with open(path_file, "a", encoding="utf-8") as f:
            for e in errs:
                f.write(json.dumps({"method": method, "path": path, "status": status, "error": e}) + "\n")
    return errs


def read_records(path_file):
    if not os.path.exists(path_file):
        return []
    with open(path_file, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
