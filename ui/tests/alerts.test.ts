// The alerts section's labels and summaries (never a secret) and its kinds toggles.
import test from "node:test";
import assert from "node:assert/strict";
import type { AlertsConfig, ChannelConfig } from "../src/ipc";
import { blankChannel, channelLabel, channelSummary, DEFAULT_KINDS, enabledKinds, hostOf, splitList, withKind } from "../src/views/alerts-model";

test("labels match the engine's and summaries hide secrets", () => {
  const hook: ChannelConfig = { type: "webhook", url: "https://user:pw@hooks.example.invalid/api/webhooks/1/KEY", template: "discord", headers: { "X-Key": "HDR" } };
  assert.equal(channelLabel(hook), "webhook (https://hooks.example.invalid/…)");
  assert.equal(channelSummary(hook), "DISCORD to https://hooks.example.invalid/…");
  const bot: ChannelConfig = { type: "telegram", name: "phone", bot_token: "123:SECRET", chat_id: "42" };
  assert.equal(channelLabel(bot), "phone");
  assert.equal(channelSummary(bot), "Chat 42 via https://api.telegram.org");
  const mail: ChannelConfig = { type: "email", smtp_url: "smtps://mail.example.invalid:465", username: "me", password: "PW", from: "a@example.invalid", to: ["b@example.invalid"] };
  assert.equal(channelLabel(mail), "email (b@example.invalid)");
  for (const c of [hook, bot, mail]) {
    for (const secret of ["KEY", "HDR", "SECRET", "PW", "pw@"]) assert.ok(!channelSummary(c).includes(secret), `${secret} in ${channelSummary(c)}`);
  }
  assert.equal(hostOf("ntfy.sh/x"), "(not a URL)");
  assert.equal(hostOf("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
  assert.equal(blankChannel("email").type, "email");
});

test("kinds toggles fall back to the default set", () => {
  const a: AlertsConfig = { channels: [] };
  assert.deepEqual(enabledKinds(a), DEFAULT_KINDS);
  const withDrift = withKind(a, "drift", true);
  assert.ok(withDrift.kinds?.includes("drift"));
  const back = withKind(withDrift, "drift", false);
  assert.equal(back.kinds, undefined, "the default set is written as no key at all");
  assert.ok(!enabledKinds(withKind(a, "offline", false)).includes("offline"));
  assert.deepEqual(splitList("a@example.invalid, b@example.invalid\n\n"), ["a@example.invalid", "b@example.invalid"]);
});
