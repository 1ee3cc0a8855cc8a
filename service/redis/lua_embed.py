#!/usr/bin/env python3
"""lua_embed.py NAME OUT.c OUT.h [--fields ...] PRELUDE.lua... -- SCRIPT.lua... - embeds Lua scripts in C.

Any folder registers its scripts with this (see jobs/meson.build): each SCRIPT.lua becomes
`const struct redis_script NAME_lua_<file name>` (service/redis/script.h) whose text is the
definitions of the PRELUDE files (service/redis/lua/runner.lua first) that the script uses, then
the script, with comment lines dropped (they stay in the .lua files, not in Redis). OUT.h
declares them. The SHA-1 that EVALSHA needs is computed here, over exactly the text SCRIPT LOAD
will send.

Only the prelude definitions a script refers to (directly or through other definitions) go into
it, in file order: Redis runs the whole text on every call, and each `local function` costs a
closure (~500 instructions) per run. A definition is a top-level `local ...` line at column 0
with the indented or `end` lines that follow it; a prelude holds nothing else.

--fields HEADER MACRO PREFIX [COLUMN=VALUE]: the scripts name the fields of a record's hash by the
rows of the record's field table (an X-macro MACRO in the C header HEADER, each row
X(ENUM, "stored name" or 0, ...)), never by hand: PREFIX + ENUM (e.g. JOB_F_CANCEL) in a script or
prelude is replaced here by the row's stored name as a Lua string ('x'), so a field renamed in the
table is renamed in every script, and the text and SHA-1 are what the hand-written name gave. A
name that is no row with a stored name fails the build, naming file, line and name; so does a row
that no script names (a field nobody stores): every row with a stored name, or with COLUMN=VALUE
(columns counted from 1, ENUM being 1) only those rows (the claims' SCRIPT rows: the others are
written by C through the table).
Scripts are emitted as NULL-terminated arrays of lines, because ISO C only promises string
literals of 4095 bytes (-Woverlength-strings); script.c joins them when it must load one.
"""
import hashlib
import os
import re
import sys


def lines_of(text):
    return [line + '\n' for line in text.splitlines() if not line.lstrip().startswith('--')]


def c_string(line):
    return '    "' + line.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '",'


IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


def definitions(text):
    """[(names defined, lines)] of a prelude, in order."""
    out = []
    for line in lines_of(text):
        if line.startswith('local '):
            head = line[len('local '):]
            if head.startswith('function '):
                names = {IDENT.match(head[len('function '):]).group(0)}
            else:
                names = {n.strip() for n in head.split('=')[0].split(',')}
            out.append((names, [line]))
        elif out and line.strip():
            out[-1][1].append(line)
        elif line.strip():
            sys.exit('lua_embed.py: a prelude holds only top-level local definitions: %r' % line)
    return out


def used_prelude(defs, body):
    """The lines of the definitions body needs, in prelude order."""
    want = set(IDENT.findall(body))
    keep = [False] * len(defs)
    changed = True
    while changed:
        changed = False
        for i in range(len(defs) - 1, -1, -1):
            names, lines = defs[i]
            if not keep[i] and names & want:
                keep[i] = changed = True
                want |= set(IDENT.findall(''.join(lines)))
    return [line for i, (_, lines) in enumerate(defs) if keep[i] for line in lines]


def field_table(header, macro):
    """{ENUM: (stored name or None, [columns])} of the X-macro macro in header."""
    with open(header, encoding='utf-8') as f:
        text = f.read()
    m = re.search(r'#define\s+' + macro + r'\(X\)((?:[^\n]*\\\n)*[^\n]*)', text)
    if not m:
        sys.exit('lua_embed.py: %s: no #define %s(X)' % (header, macro))
    rows = {}
    for cols in re.findall(r'\bX\(([^)]*)\)', m.group(1)):
        cols = [c.strip() for c in cols.split(',')]
        stored = re.fullmatch(r'"([^"]*)"', cols[1])
        rows[cols[0]] = (stored.group(1) if stored else None, cols)
    if not rows:
        sys.exit('lua_embed.py: %s: %s has no rows' % (header, macro))
    return rows


class Fields:
    """The --fields table: replaces PREFIX+ENUM by the stored name, remembers which were named."""

    def __init__(self, header, macro, prefix, must=None):
        self.header, self.macro, self.prefix = header, macro, prefix
        self.rows = field_table(header, macro)
        self.name = re.compile(r'\b' + re.escape(prefix) + r'[A-Za-z0-9_]*')
        self.named = set()
        self.must = must

    def resolve(self, path, text):
        out = []
        for no, line in enumerate(text.splitlines(keepends=True), 1):
            if not line.lstrip().startswith('--'):
                line = self.name.sub(lambda m: self.stored(path, no, m.group(0)), line)
            out.append(line)
        return ''.join(out)

    def stored(self, path, no, word):
        enum = word[len(self.prefix):]
        row = self.rows.get(enum)
        if not row or row[0] is None:
            sys.exit('%s:%d: %s is no row of %s (%s) with a stored name' % (path, no, word, self.macro, self.header))
        self.named.add(enum)
        return "'" + row[0] + "'"

    def check_named(self, where):
        for enum, (stored, cols) in self.rows.items():
            if stored is None or enum in self.named:
                continue
            if self.must and cols[self.must[0] - 1] != self.must[1]:
                continue
            sys.exit('%s: %s%s (stored as "%s") is named by no %s script: a field no script writes'
                     % (self.header, self.prefix, enum, stored, where))


def fields_option(args):
    """Takes --fields HEADER MACRO PREFIX [COLUMN=VALUE] off the front of args: (Fields or None, rest)."""
    if not args or args[0] != '--fields':
        return None, args
    if len(args) < 4:
        sys.exit('lua_embed.py: --fields HEADER MACRO PREFIX [COLUMN=VALUE]')
    header, macro, prefix = args[1:4]
    rest, must = args[4:], None
    if rest and re.fullmatch(r'[0-9]+=\S+', rest[0]):
        col, value = rest[0].split('=', 1)
        must, rest = (int(col), value), rest[1:]
    return Fields(header, macro, prefix, must), rest


def script_name(path):
    name = os.path.basename(path)[:-4]
    if not re.fullmatch(r'[a-z][a-z0-9_]*', name):
        sys.exit('lua_embed.py: script file names are [a-z][a-z0-9_]*.lua: %s' % path)
    return name


def main():
    name, out_c, out_h = sys.argv[1:4]
    fields, rest = fields_option(sys.argv[4:])
    if '--' not in rest:
        sys.exit('usage: lua_embed.py NAME OUT.c OUT.h [--fields HEADER MACRO PREFIX [COLUMN=VALUE]] '
                 'PRELUDE.lua... -- SCRIPT.lua...')
    preludes, scripts = rest[:rest.index('--')], rest[rest.index('--') + 1:]

    def source(path):
        text = open(path, encoding='utf-8').read()
        return fields.resolve(path, text) if fields else text

    defs = definitions(''.join(source(p) for p in preludes))
    header = os.path.basename(out_h)
    guard = 'FW_' + re.sub(r'[^A-Za-z0-9]', '_', name + '_' + header).upper()
    c = ['/* Generated by service/redis/lua_embed.py - do not edit. */', '#include "service/redis/script.h"', '']
    h = ['/* Generated by service/redis/lua_embed.py - do not edit. */', '#ifndef ' + guard, '#define ' + guard, '',
         '#include "service/redis/script.h"', '']
    for path in scripts:
        sname = script_name(path)
        body = lines_of(source(path))
        lines = used_prelude(defs, ''.join(body)) + body
        sha = hashlib.sha1(''.join(lines).encode('utf-8')).hexdigest()
        c.append('static const char *const s_%s[] = {' % sname)
        c += [c_string(line) for line in lines]
        c.append('    0,')
        c.append('};')
        c.append('const struct redis_script %s_lua_%s = {"%s/%s", "%s", s_%s};' % (name, sname, name, sname, sha, sname))
        c.append('')
        h.append('extern const struct redis_script %s_lua_%s;' % (name, sname))
    if fields:
        fields.check_named(name)
    h += ['', '#endif']
    with open(out_c, 'w', encoding='utf-8') as f:
        f.write('\n'.join(c) + '\n')
    with open(out_h, 'w', encoding='utf-8') as f:
        f.write('\n'.join(h) + '\n')


if __name__ == '__main__':
    main()
