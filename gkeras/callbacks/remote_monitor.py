"""`RemoteMonitor`: posts epoch results to a server."""

import json
import warnings

import numpy as np

from gkeras.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """Sends each epoch's logs to a server with an HTTP POST.

    The body is a form with one field `field` holding the JSON of
    `{"epoch": epoch, **logs}`, or that JSON itself with
    `send_as_json=True`. Uses the standard library (no `requests` needed).

    Args:
        root: the server's root URL.
        path: the path the events are posted to.
        field: the form field holding the JSON.
        headers: optional dict of HTTP headers.
        send_as_json: send the JSON as the request body
            (`application/json`).

    Example:

    ```python
    monitor = gkeras.callbacks.RemoteMonitor(root="http://localhost:9000")
    model.fit(x, y, callbacks=[monitor])
    ```
    """

    def __init__(self, root="http://localhost:9000",
                 path="/publish/epoch/end/", field="data", headers=None,
                 send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = 10

    def on_epoch_end(self, epoch, logs=None):
        # urllib.request pulls in http/email: imported on use, not with
        # `import gkeras`.
        import urllib.error
        import urllib.parse
        import urllib.request
        send = {"epoch": epoch}
        for k, v in (logs or {}).items():
            send[k] = v.item() if isinstance(v, (np.ndarray, np.generic)) \
                else v
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode(
                {self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type",
                               "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body,
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                r.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn("Could not reach RemoteMonitor root server at "
                          f"{self.root}", stacklevel=2)
