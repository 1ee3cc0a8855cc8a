#!/usr/bin/env python3
"""lua_embed_test.py - the Lua scripts and the records' field tables agree (service/redis/lua_embed.py).

The job scripts (jobs/lua/) name the job hash's fields JOB_F_<row> of JOB_FIELDS (jobs/job_record.h),
the claim scripts (service/domain/lua/claim_*.lua) CLAIM_F_<row> of CLAIM_FIELDS
(service/domain/claim_fields.h); lua_embed.py puts in the stored names at build time. These tests
run lua_embed.py as the build does, on the real scripts and tables and on copies with one thing
renamed, and read the scripts for a field name written by hand (which the build would not see).
Run from the project root: /usr/bin/python3 tests/unit/redis/lua_embed_test.py
Prints "lua_embed: N passed, M failed" last (tests/run.sh counts it); exit 1 on any failure.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, 'service/redis')
import lua_embed  # noqa: E402  (the table parser the build uses)

EMBED = 'service/redis/lua_embed.py'
RUNNER = 'service/redis/lua/runner.lua'
JOBS = ('jobs/job_record.h', 'JOB_FIELDS', 'JOB_F_')
CLAIMS = ('service/domain/claim_fields.h', 'CLAIM_FIELDS', 'CLAIM_F_', '5=SCRIPT')


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def lines(path):
    return enumerate(read(path).splitlines(), 1)


def scripts(folder):
    return sorted(p for p in glob.glob(folder + '/lua/*.lua') if not p.endswith('/prelude.lua'))


def embed(name, fields, prelude, paths):
    """Runs lua_embed.py as meson does: (exit code, stderr, generated C text)."""
    with tempfile.TemporaryDirectory() as out:
        c, h = os.path.join(out, name + '_lua.c'), os.path.join(out, name + '_lua.h')
        cmd = [sys.executable, EMBED, name, c, h, '--fields', *fields, RUNNER, prelude, '--', *paths]
        p = subprocess.run(cmd, capture_output=True, text=True)
        text = read(c) if p.returncode == 0 else ''
        return p.returncode, p.stderr, text


def copy_with(tmp, path, old, new):
    """A copy of path in tmp with old replaced by new (once, and it must be there); the copy's path."""
    text = read(path)
    assert text.count(old) >= 1, (path, old)
    dst = os.path.join(tmp, os.path.basename(path))
    with open(dst, 'w', encoding='utf-8') as f:
        f.write(text.replace(old, new, 1))
    return dst


def line_of(path, needle):
    for no, line in lines(path):
        if needle in line:
            return no
    raise AssertionError('%s lacks %s' % (path, needle))


def job_embed(fields=JOBS, prelude='jobs/lua/prelude.lua', paths=None):
    return embed('jobs', fields, prelude, paths or scripts('jobs'))


class JobScripts(unittest.TestCase):
    def test_the_scripts_name_only_rows_and_every_stored_row(self):
        rc, err, text = job_embed()
        self.assertEqual(rc, 0, err)
        self.assertNotIn('JOB_F_', text)
        # the cancel flag as cancel.lua writes it: the row's stored name, quoted
        rows = lua_embed.field_table(*JOBS[:2])
        x, xt = rows['CANCEL'][0], rows['CANCELTTL'][0]
        self.assertIn("redis.call('HSET', k, '%s', '1', '%s', ttl)" % (x, xt), text)

    def test_a_name_renamed_in_a_script_fails_naming_script_line_and_name(self):
        with tempfile.TemporaryDirectory() as tmp:
            bad = copy_with(tmp, 'jobs/lua/cancel.lua', "HSET', k, JOB_F_CANCEL", "HSET', k, JOB_F_CANCELED")
            paths = [bad if p.endswith('/cancel.lua') else p for p in scripts('jobs')]
            rc, err, _ = job_embed(paths=paths)
            self.assertNotEqual(rc, 0)
            self.assertIn('cancel.lua:%d: JOB_F_CANCELED is no row of JOB_FIELDS' % line_of(bad, 'JOB_F_CANCELED'),
                          err)

    def test_a_row_renamed_in_the_table_fails_where_a_script_names_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            hdr = copy_with(tmp, JOBS[0], 'X(RLWAIT, ', 'X(RLWAITING, ')
            rc, err, _ = job_embed(fields=(hdr, 'JOB_FIELDS', 'JOB_F_'))
            self.assertNotEqual(rc, 0)
            self.assertRegex(err, r'prelude\.lua:%d: JOB_F_RLWAIT is no row of JOB_FIELDS'
                             % line_of('jobs/lua/prelude.lua', 'JOB_F_RLWAIT'))

    def test_a_stored_name_changed_in_the_table_changes_every_script(self):
        with tempfile.TemporaryDirectory() as tmp:
            hdr = copy_with(tmp, JOBS[0], 'X(CANCEL,   "x"', 'X(CANCEL,   "xc"')
            rc, err, text = job_embed(fields=(hdr, 'JOB_FIELDS', 'JOB_F_'))
            self.assertEqual(rc, 0, err)
            _, _, before = job_embed()
            for script in ('cancel', 'retry', 'renew', 'step'):
                mine = re.search(r's_%s\[\] = \{(.*?)\n\};' % script, text, re.S).group(1)
                self.assertIn("'xc'", mine, script)
                self.assertNotIn("'x'", mine, script)
            sha = re.compile(r'jobs_lua_cancel = \{"jobs/cancel", "([0-9a-f]{40})"')
            self.assertNotEqual(sha.search(text).group(1), sha.search(before).group(1))

    def test_a_stored_row_no_script_names_fails_naming_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            row = 'X(OWNER,    "o",  TEXT,    0,         0,                 NONE,     TOP) \\\n    X(RLPAID, '
            hdr = copy_with(tmp, JOBS[0], 'X(RLPAID, ', row)
            rc, err, _ = job_embed(fields=(hdr, 'JOB_FIELDS', 'JOB_F_'))
            self.assertNotEqual(rc, 0)
            self.assertIn('JOB_F_OWNER (stored as "o") is named by no jobs script', err)

    def test_no_script_writes_a_job_field_name_by_hand(self):
        # the event log entry's one member ('e', prelude.lua publish) is no job hash field
        self.assertEqual(hand_written(glob.glob('jobs/lua/*.lua'), JOBS, skip="'XADD'"), [])


class ClaimScripts(unittest.TestCase):
    def claim_embed(self, fields=CLAIMS, paths=None):
        return embed('domain', fields, 'service/domain/lua/prelude.lua', paths or scripts('service/domain'))

    def test_the_scripts_name_only_rows_and_every_script_row(self):
        rc, err, text = self.claim_embed()
        self.assertEqual(rc, 0, err)
        self.assertNotIn('CLAIM_F_', text)

    def test_a_name_renamed_in_a_script_fails_naming_script_line_and_name(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = 'service/domain/lua/claim_bundle.lua'
            bad = copy_with(tmp, src, 'CLAIM_F_BUNDLE_AT', 'CLAIM_F_BUNDLE_TAKEN_AT')
            paths = [bad if p == src else p for p in scripts('service/domain')]
            rc, err, _ = self.claim_embed(paths=paths)
            self.assertNotEqual(rc, 0)
            self.assertIn('claim_bundle.lua:%d: CLAIM_F_BUNDLE_TAKEN_AT is no row of CLAIM_FIELDS'
                          % line_of(bad, 'CLAIM_F_BUNDLE_TAKEN_AT'), err)

    def test_only_a_script_row_must_be_named(self):
        """A row C writes through the table (SET) needs no script; a SCRIPT row does."""
        for by, fails in (('SET', False), ('SCRIPT', True)):
            with tempfile.TemporaryDirectory() as tmp:
                row = 'X(LAST_SEEN, "lastSeen", "lastSeen", TIME, %s) \\\n    X(FLEET_UID, ' % by
                hdr = copy_with(tmp, CLAIMS[0], 'X(FLEET_UID, ', row)
                rc, err, _ = self.claim_embed(fields=(hdr,) + CLAIMS[1:])
                self.assertEqual(rc != 0, fails, err)
                if fails:
                    self.assertIn('CLAIM_F_LAST_SEEN (stored as "lastSeen") is named by no domain script', err)

    def test_no_claim_script_writes_a_claim_field_name_by_hand(self):
        self.assertEqual(hand_written(glob.glob('service/domain/lua/claim_*.lua'), CLAIMS), [])


def hand_written(paths, table, skip=None):
    """['FILE:LINE: ...'] for every quoted string in the code of paths that is a stored name of
    table (header, macro, prefix, ...); lines holding skip are passed over."""
    enum_of = {s: e for e, (s, _) in lua_embed.field_table(*table[:2]).items() if s}
    found = []
    for path in sorted(paths):
        for no, line in lines(path):
            code = line.split('--', 1)[0]
            if skip and skip in code:
                continue
            found += ["%s:%d: '%s' written by hand: write %s%s" % (path, no, s, table[2], enum_of[s])
                      for s in re.findall(r"'([^']*)'", code) if s in enum_of]
    return found


if __name__ == '__main__':
    result = unittest.main(exit=False, verbosity=1).result
    failed = len(result.failures) + len(result.errors)
    print('lua_embed: %d passed, %d failed' % (result.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
