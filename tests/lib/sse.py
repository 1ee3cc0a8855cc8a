"""A small server-sent events client for the integration tests (GET /v1/events).

open_events() reads the stream in a daemon thread and hands out what it reads
through a queue: first ("status", http_status, content_type), then one
(id, event, data) per record, `event` being the SSE event name ("job",
"incident") and `data` the parsed JSON. The stream ends when the server
closes it or after `timeout` seconds without a byte (pings come every 15 s).
"""
import http.client
import json
import queue
import threading


def open_events(port, token, path="/v1/events", headers=None, timeout=20):
    """Returns (("status", code, content type), queue of (id, event, data))."""
    out = queue.Queue()

    def read_stream():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        h = {"Authorization": "Bearer " + token}
        h.update(headers or {})
        try:
            conn.request("GET", path, headers=h)
            r = conn.getresponse()
            out.put(("status", r.status, r.getheader("Content-Type")))
            ev_id, ev_name = None, "message"
            while True:
                line = r.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith("id: "):
                    ev_id = line[4:]
                elif line.startswith("event: "):
                    ev_name = line[7:]
                elif line.startswith("data: "):
                    out.put((ev_id, ev_name, json.loads(line[6:])))
                elif line == "":
                    ev_name = "message"   # a record ends: the SSE default name again
        except (OSError, ValueError, http.client.HTTPException) as e:
            out.put(("error", str(e), None))
        finally:
            conn.close()

    threading.Thread(target=read_stream, daemon=True).start()
    return out.get(timeout=timeout), out
