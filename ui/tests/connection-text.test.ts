// The header chip's words for each state of the link to a scheduler.
import test from "node:test";
import assert from "node:assert/strict";
import { connectionText } from "../src/views/connection-text";

test("the chip names the host and the retry, and is empty when local", () => {
  assert.equal(connectionText({ state: "local" }), "");
  assert.equal(connectionText({ state: "connected", host: "127.0.0.1:8417", tls: false, fingerprint: null }), "Attached to 127.0.0.1:8417");
  assert.equal(connectionText({ state: "lost", host: "pi.example.invalid:8417", retry_in: 5, reason: "closed" }),
    "Connection to pi.example.invalid:8417 lost — retrying in 5 s");
  assert.match(connectionText({ state: "refused", host: "h:1", reason: "the scheduler at h:1 refused the token" }), /refused the token/);
});
