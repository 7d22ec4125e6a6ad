#!/usr/bin/env python3
"""A demo webhook receiver: prints each Pingan warning and notice it gets and checks its signature.

Serves requests concurrently with a normal listen backlog.

    WEBHOOK_SECRET=... python3 deploy/scripts/webhook-receiver.py 8090

Answers 200 to valid deliveries, 401 to a bad signature. Deliveries are retried with the same
X-Pingan-Delivery id, so a receiver should act on each id once, as this one does.
"""
import hashlib
import hmac
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ["WEBHOOK_SECRET"].encode()
seen = set()
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("X-Pingan-Signature", "")):
            self.send_response(401)
            self.end_headers()
            return
        delivery = self.headers.get("X-Pingan-Delivery", "")
        with lock:
            first = delivery not in seen
            seen.add(delivery)
        if first:
            event = json.loads(body)
            if event.get("type") == "warning.raised":
                print(f"WARNING case={event['case_id']} centre={event['centre_code']} "
                      f"village={event['village_code']} score={event['score']} "
                      f"reasons={'; '.join(event['reasons'])} (signature ok)", flush=True)
            else:
                print(f"{event.get('type', '?').upper()} case={event.get('case_id')} centre={event.get('centre_code')} "
                      f"{event.get('summary', '')} (signature ok)", flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    # Deliveries arrive together; a backlog of 5 refused them and TCP retried each after a second.
    request_queue_size = 128
    daemon_threads = True


Server(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
