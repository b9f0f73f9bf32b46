"""Write audit entries from many threads of one OS process (run by the multi-process tests and benches).

Usage: python tests/audit/writer_process.py THREADS PER_THREAD LABEL
(DATABASE_URL and AUDIT_KEYRING come from the environment.)
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")


def main() -> None:
    import django

    django.setup()
    from django.db import connection

    import audit

    threads, per_thread, label = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    start = threading.Barrier(threads)

    def write(worker: int) -> None:
        start.wait()
        try:
            for n in range(per_thread):
                audit.record("bench.write", actor=label, target=f"{label}:{worker}", data={"n": n})
        finally:
            connection.close()

    pool = [threading.Thread(target=write, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    print(f"{label}: wrote {threads * per_thread}")


if __name__ == "__main__":
    main()
