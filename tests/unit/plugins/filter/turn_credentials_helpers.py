# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tests of the veza.coturn turn_credentials filters share: the
secrets, the clock, and the expected credential, an HMAC-SHA1 computed here
with hmac, hashlib and base64 directly (test_turn_credentials.py,
test_turn_ice_servers.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SECRET = "0123456789abcdef"  # exactly MIN_SECRET_LENGTH characters
OTHER_SECRET = "fedcba9876543210-rotated"
NOW = 1_700_000_000


def expected_credential(secret, username):
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")
