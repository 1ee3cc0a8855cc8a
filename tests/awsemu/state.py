"""The emulator's whole state as one JSON-able dict, with optional persistence (atomic rename)."""

import json
import os
import tempfile
import threading


def empty():
    return {
        'iam': {'roles': {}, 'policies': {}},
        'sts': {'sessions': {}},
        'iot': {'roleAliases': {}, 'policies': {}, 'certificates': {}, 'templates': {},
                'thingGroups': {}, 'things': {}, 'thingTypes': {}, 'ownershipTokens': {}, 'seq': 0},
        'cloudwatch': {'metrics': {}},
        'fpmetrics': {},
        'ca': None,
    }


class Store:
    def __init__(self, state_dir=None):
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.data = empty()
        if state_dir:
            os.makedirs(state_dir, exist_ok=True)
            path = self.path()
            if os.path.exists(path):
                with open(path) as f:
                    loaded = json.load(f)
                base = empty()
                for k, v in loaded.items():
                    if isinstance(v, dict) and isinstance(base.get(k), dict):
                        base[k].update(v)
                    else:
                        base[k] = v
                self.data = base

    def path(self):
        return os.path.join(self.state_dir, 'state.json')

    def reset(self):
        with self.lock:
            keep = {k: self.data.get(k) for k in ('ca', 'serverCa')}  # the CAs devices already trust
            self.data = empty()
            self.data.update(keep)
            self.save()

    def save(self):
        if not self.state_dir:
            return
        with self.lock:
            fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix='.state.', suffix='.tmp')
            try:
                with os.fdopen(fd, 'w') as f:
                    json.dump(self.data, f, sort_keys=True)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path())
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
