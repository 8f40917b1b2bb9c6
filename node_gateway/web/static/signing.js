// The auditee's signing page (web/signing.py): recomputes, in the page, each letter's hash from the
// document it shows, the Merkle root of the letters and the EIP-712 digests, and signs its own
// digest with the passkey (WebAuthn: the digest is the challenge). keccak-256 is js-sha3's
// (window.keccak256, vendored by make web-assets). The page never sees a private key.
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("sign-data").textContent);
  const words = data.words;
  const status = document.getElementById("sign-status");
  const checked = document.getElementById("sign-checked");

  const utf8 = (text) => new TextEncoder().encode(text);
  const fromHex = (text) => Uint8Array.from(text.slice(2).match(/../g) || [], (h) => parseInt(h, 16));
  const toHex = (bytes) => "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const toB64u = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) { out.set(part, at); at += part.length; }
    return out;
  };
  const keccak = (bytes) => new Uint8Array(window.keccak256.arrayBuffer(bytes));
  const word = (value) => { // an unsigned integer (decimal text or number) as an ABI word
    let v = BigInt(value);
    const out = new Uint8Array(32);
    for (let i = 31; i >= 0; i--) { out[i] = Number(v & 255n); v >>= 8n; }
    return out;
  };
  const padded = (bytes) => concat(new Uint8Array(32 - bytes.length), bytes);
  const lessThan = (a, b) => { for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i]; return false; };

  // RFC 8785 of a document's JSON (strings, small integers, booleans, null; ASCII keys): sorted
  // keys (UTF-16 order, as JavaScript sorts), JSON.stringify's escapes, no spaces.
  const canonical = (value) => {
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    if (value !== null && typeof value === "object") {
      return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
    }
    return JSON.stringify(value);
  };

  // keccak256(tag ‖ salt ‖ RFC 8785 JSON), the letter's hash on chain (protocol/hashing.py).
  const letterHash = (letter) => keccak(concat(fromHex(data.letter_domain), fromHex(letter.salt), utf8(canonical(letter.document))));
  // A leaf binds the letter, its hash and its bank, hashed twice (chain/authorisation.py); the
  // auditee's reference is the firm's to relay, under the signer's mandate.
  const leaf = (letter, hash) => keccak(keccak(concat(fromHex(letter.letter_id), hash, word(letter.bank))));
  const root = (leaves) => { // OpenZeppelin's MerkleProof: sorted pairs, an unpaired node moves up
    let level = leaves;
    while (level.length > 1) {
      const up = [];
      for (let i = 0; i < level.length; i += 2) {
        const [a, b] = [level[i], level[i + 1]];
        up.push(b === undefined ? a : keccak(lessThan(a, b) ? concat(a, b) : concat(b, a)));
      }
      level = up;
    }
    return level[0];
  };
  // EIP-712: keccak256(0x1901 ‖ domain separator ‖ struct hash), every field a static type.
  const typeHash = (name, fields) => keccak(utf8(name + "(" + fields.map((f) => f.type + " " + f.name).join(",") + ")"));
  const eip712 = (typed) => {
    const d = typed.domain;
    const domain = keccak(concat(
      typeHash("EIP712Domain", typed.types.EIP712Domain), keccak(utf8(d.name)), keccak(utf8(d.version)),
      word(d.chainId), padded(fromHex(d.verifyingContract))));
    const fields = typed.types[typed.primaryType];
    const values = fields.map((f) => (f.type === "bytes32" ? fromHex(typed.message[f.name]) : word(typed.message[f.name])));
    const struct = keccak(concat(typeHash(typed.primaryType, fields), ...values));
    return keccak(concat(new Uint8Array([0x19, 0x01]), domain, struct));
  };

  // The page's own check: every letter's hash, the root, and each digest it may sign.
  const problems = [];
  const hashes = data.letters.map((letter) => {
    const hash = letterHash(letter);
    if (toHex(hash) !== letter.letter_hash) problems.push(letter.letter_id);
    return hash;
  });
  const computedRoot = toHex(root(data.letters.map((letter, i) => leaf(letter, hashes[i]))));
  if (computedRoot !== data.authorisation.message.requestsRoot) problems.push("requestsRoot");
  const digests = new Map([["", eip712(data.authorisation)]]);
  for (const refusal of data.refusals) {
    if (refusal.message.requestsRoot !== computedRoot) problems.push("refusal " + refusal.message.reason);
    digests.set(String(refusal.message.reason), eip712(refusal));
  }
  for (const shown of document.querySelectorAll("[data-digest-of]")) {
    if (shown.textContent.trim() !== toHex(digests.get(shown.dataset.digestOf))) problems.push("digest");
  }
  const buttons = document.querySelectorAll(".sign-form button");
  if (problems.length) {
    checked.textContent = words.mismatch + " " + problems.join(", ");
    checked.className = "bad-word";
    buttons.forEach((button) => { button.disabled = true; });
    return;
  }
  checked.textContent = words.verified;
  checked.className = "ok-word";

  const reason = document.getElementById("refuse-reason");
  const showRefusal = () => {
    const chosen = reason.selectedOptions[0];
    reason.form.nonce.value = chosen.dataset.nonce;
    reason.form.querySelector("[data-digest-of]").dataset.digestOf = chosen.value;
    reason.form.querySelector("[data-digest-of]").textContent = toHex(digests.get(chosen.value));
  };
  reason.addEventListener("change", showRefusal);

  for (const form of document.querySelectorAll(".sign-form")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!window.PublicKeyCredential) { status.textContent = words.no_webauthn; return; }
      status.textContent = words.waiting;
      const digest = digests.get(form.reason ? form.reason.value : "");
      try {
        const assertion = await navigator.credentials.get({ publicKey: {
          challenge: digest, rpId: data.rp_id, allowCredentials: [],
          userVerification: "required", timeout: 120000 } });
        form.authenticator_data.value = toB64u(assertion.response.authenticatorData);
        form.client_data_json.value = toB64u(assertion.response.clientDataJSON);
        form.signature.value = toB64u(assertion.response.signature);
        status.textContent = words.sending;
        form.submit();
      } catch (error) {
        status.textContent = words.cancelled + " (" + error.name + ")";
      }
    });
  }
})();
