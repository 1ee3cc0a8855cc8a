"""Every third-party module the emulator imports comes from a Debian package that both the machine install
(deploy/local/packages.txt) and the emulator's container (deploy/Dockerfile, stage awsemu) install."""

import ast
import os
import re
import sys
import unittest

EMU_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(os.path.dirname(EMU_DIR))
DEBIAN = {'yaml': 'python3-yaml', 'paho': 'python3-paho-mqtt'}   # otherwise python3-<module>


def imported_modules(path):
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.split('.')[0]


def third_party():
    local = {f[:-3] for f in os.listdir(EMU_DIR) if f.endswith('.py')}
    found = {}
    for f in sorted(os.listdir(EMU_DIR)):
        if f.endswith('.py'):
            for m in imported_modules(os.path.join(EMU_DIR, f)):
                if m not in local and m not in sys.stdlib_module_names:
                    found.setdefault(m, f)
    return found


class Packages(unittest.TestCase):
    def test_the_emulator_imports_only_packaged_modules(self):
        modules = third_party()
        self.assertIn('cbor2', modules)          # the scan sees the imports it must see
        with open(os.path.join(ROOT, 'deploy', 'local', 'packages.txt')) as f:
            machine = {line.strip() for line in f if line.strip() and not line.startswith('#')}
        with open(os.path.join(ROOT, 'deploy', 'Dockerfile')) as f:
            text = f.read()
        stage = text[text.index(' AS awsemu'):]
        stage = stage[:stage.index('\nFROM ')] if '\nFROM ' in stage else stage
        container = set(re.findall(r'python3-[a-z0-9-]+', stage))
        for module, where in sorted(modules.items()):
            pkg = DEBIAN.get(module, 'python3-' + module)
            self.assertIn(pkg, machine, '%s (imported by %s) is not in deploy/local/packages.txt' % (pkg, where))
            self.assertIn(pkg, container, '%s (imported by %s) is not installed in the awsemu container stage'
                          % (pkg, where))


if __name__ == '__main__':
    unittest.main()
