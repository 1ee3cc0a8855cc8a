#!/usr/bin/env python3
"""Habits of the product code that a grep can keep (../shared/STYLE.md, "What we take" 20).

1. No call of a function curl bans and we ban with it: strcpy, strcat, strncpy, sprintf,
   vsprintf, gets, atoi, atol, atoll, sscanf, strtok. They either write past a buffer with nothing
   to stop them or cannot say that a number was bad; snprintf, memcpy with a checked length,
   strtol/strtoll with an end pointer and the parsers of service/core do the same work safely.
2. No "issue N" in a comment: the reason goes in the comment itself, the history in git.
3. Settings are read in one place: no getenv()/secure_getenv() outside service/core/config.c
   (every FLEETWARDEN_* setting is checked there at start-up and handed out by config_get()) and
   aws/ (the AWS SDKs' own variables, through its injectable lookups); aws/ names no
   FLEETWARDEN_* variable at all.

Only product code is read (service/, routes/, jobs/, aws/, openapi/: C, headers, Lua, meson.build);
comments and string literals are blanked before looking for calls. Prints FILE:LINE: what, and
exits 1 when there is anything. Run from anywhere: /usr/bin/python3 tests/tools/check_source.py
"""
import os
import re
import sys

import gate

PRODUCT = ("service/", "routes/", "jobs/", "aws/", "openapi/")
BANNED = ("strcpy", "strcat", "strncpy", "sprintf", "vsprintf", "gets", "atoi", "atol", "atoll",
          "sscanf", "strtok")
CALL = re.compile(r"\b(" + "|".join(BANNED) + r")\s*\(")
GETENV = re.compile(r"\b(secure_getenv|getenv)\s*\(")
GETENV_ALLOWED = ("service/core/config.c", "aws/")
ISSUE = re.compile(r"\b[Ii]ssues?\s+#?\d+")
# A C comment, a string literal, a character literal (kept apart so "/*" in a string is no comment).
C_TOKENS = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def split_c(text):
    """(code, comments): the text with comments and literals blanked, and with all but comments
    blanked; both keep every newline, so line numbers stay."""
    code, comments, last = [], [], 0
    for m in C_TOKENS.finditer(text):
        tok = m.group(0)
        blank = re.sub(r"[^\n]", " ", tok)
        code.append(text[last:m.start()])
        comments.append(re.sub(r"[^\n]", " ", text[last:m.start()]))
        code.append(blank)
        comments.append(tok if tok.startswith("/") else blank)
        last = m.end()
    code.append(text[last:])
    comments.append(re.sub(r"[^\n]", " ", text[last:]))
    return "".join(code), "".join(comments)


def hash_comments(text):
    """The comments of a Lua (--) or meson (#) file, the rest blanked."""
    out = []
    for line in text.split("\n"):
        m = re.search(r"--.*|#.*", line)
        out.append(" " * m.start() + m.group(0) if m else "")
    return "\n".join(out)


SETTING_NAME = re.compile(r'"FLEETWARDEN_[A-Z0-9_]*"')

def check_text(path, text):
    problems = []
    if path.endswith((".c", ".h")):
        code, comments = split_c(text)
        for n, line in enumerate(code.split("\n"), 1):
            for m in CALL.finditer(line):
                problems.append(f"{path}:{n}: {m.group(1)}() is banned (tests/tools/check_source.py)")
            if GETENV.search(line) and not path.startswith(GETENV_ALLOWED):
                problems.append(f"{path}:{n}: getenv() outside service/core/config.c: add the setting "
                                "to its table and read config_get()")
        if path.startswith("aws/"):
            # A setting's name as a whole string literal is a lookup; named inside a message (a hint
            # that tells the operator which setting to change) it is not.
            for n, line in enumerate(text.split("\n"), 1):
                if SETTING_NAME.search(line):
                    problems.append(f"{path}:{n}: aws/ reads no FLEETWARDEN_* setting")
    else:
        comments = hash_comments(text)
    for n, line in enumerate(comments.split("\n"), 1):
        m = ISSUE.search(line)
        if m:
            problems.append(f"{path}:{n}: \"{m.group(0)}\" in a comment: say why instead")
    return problems


def product_files():
    return sorted(f for f in gate.git_files() if f.startswith(PRODUCT)
                  and (f.endswith((".c", ".h", ".lua")) or os.path.basename(f) == "meson.build"))


def self_test():
    """A gate that cannot fail is no gate."""
    bad = ["int n = atoi(s);", "strcpy(a, b);", "x = sscanf (s, \"%d\", &n);", "sprintf(b, \"x\");",
           "/* issue 17: why */ int x;", "// see Issue 8\nint y;"]
    good = ["int n = (int)strtol(s, &end, 10);", "/* strcpy(a, b) would overflow */", "snprintf(b, n, \"x\");",
            "log(\"atoi(x) failed\");", "char c = '\"'; /* the issue is that */ int z;", "my_atoi(s);"]
    for t in bad:
        assert check_text("x.c", t), f"not caught: {t}"
    for t in good:
        assert not check_text("x.c", t), f"false alarm: {t}"
    assert check_text("jobs/x.c", "const char *v = getenv(\"FLEETWARDEN_X\");")
    assert check_text("routes/x.c", "v = secure_getenv (name);")
    assert not check_text("service/core/config.c", "v = getenv(name);")
    assert not check_text("aws/creds.c", "v = getenv(name);")
    assert check_text("aws/x.c", "env(fn, ud, \"FLEETWARDEN_REGION\");")
    assert not check_text("aws/x.c", "say(w, n, \"%s is refused (FLEETWARDEN_IOT_ENDPOINT_HOSTS lists others)\", h);")
    assert not check_text("jobs/x.c", "/* not getenv(): config_get() */ int x;")
    assert check_text("x.lua", "-- issue 12: the clock")
    assert not check_text("x.lua", "local issue = 12")


def check_files(files):
    problems = []
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            problems += check_text(f, fh.read())
    return problems


if __name__ == "__main__":
    sys.exit(gate.run(self_test, lambda: check_files(product_files()), "source habits", "problem(s)"))
