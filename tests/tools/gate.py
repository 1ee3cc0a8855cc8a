"""What the source gates (check_layers.py, check_source.py) share: the files git knows, and a run
that first proves the rules can fail, then reads the tree and says what it found."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def git_files(*patterns):
    """The files git tracks, or would (untracked, not ignored), matching patterns (all when none),
    that exist in the working tree; paths relative to the project root, the current folder."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", *patterns], capture_output=True,
                         text=True, check=True).stdout.split()
    return [f for f in out if os.path.exists(f)]


def run(self_test, find_problems, label, what):
    """self_test() (a gate that cannot fail is no gate), then find_problems() from the project root:
    prints each problem and one line "label: ok" or "label: N what"; returns the exit code."""
    self_test()
    os.chdir(ROOT)
    problems = find_problems()
    for p in problems:
        print(p)
    print(f"{label}: {len(problems)} {what}" if problems else f"{label}: ok")
    return 1 if problems else 0
