#!/usr/bin/env python3
"""A demo webhook receiver: prints each Pingan warning it gets and checks its signature.

    WEBHOOK_SECRET=... python3 deploy/scripts/webhook-receiver.py 8090

Answers 200 to valid deliveries, 401 to a bad signature. Deliveries are retried with the same
X-Pingan-Delivery id, so a receiver should act on each id once, as this one does.
"""
import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ["WEBHOOK_SECRET"].encode()
seen = set()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("X-Pingan-Signature", "")):
            self.send_response(401)
            self.end_headers()
            return
        delivery = self.headers.get("X-Pingan-Delivery", "")
        if delivery not in seen:
            seen.add(delivery)
            warning = json.loads(body)
            print(f"WARNING case={warning['case_id']} centre={warning['centre_code']} "
                  f"village={warning['village_code']} score={warning['score']} "
                  f"reasons={'; '.join(warning['reasons'])} (signature ok)", flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
