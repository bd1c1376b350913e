// insert.mjs: an NDNts client inserts Data into an ndn-repo over the
// ndn-python-repo protocol, then deletes one packet.
//
// Usage: NDN_CLIENT_TRANSPORT=unix:///path/nfd.sock node insert.mjs /test/repo [/test/ndnts]
//
// @ndn/pyrepo is not published on the npm registry (NDNts publishes it only
// as a nightly tarball), so the client side of the protocol is written here
// with the published NDNts packages, following @ndn/pyrepo's
// PyRepoClient/PrpsPublisher behaviour packet for packet: ObjectParam with a
// ForwardingHint equal to the publisher prefix, a DigestSha256-signed notify
// Interest with a SignedInterestPolicy nonce, a message Data signed by
// pubSigner, and DigestSha256-signed check Interests polled until
// StatusCode 200.
//
// Security handshake with the Go test: the script prints
//   CSR <base64 of a self-signed certificate>
// and reads one line
//   CERT <base64 of a certificate issued by the repo's trust anchor>
// from stdin; it then serves that certificate and signs with it.
// Results are printed as "RESULT ..." lines; exit status 0 means success.
//
// The inserted Data are served only behind the publisher prefix (the
// ForwardingHint), as @ndn/pyrepo users do; NDNTS_ANNOUNCE_DATA=1 also
// registers their prefix, so a repo that ignores the hint still finds them.

import { createInterface } from "node:readline";

import { consume, produce } from "@ndn/endpoint";
import { Forwarder } from "@ndn/fw";
import { Certificate, generateSigningKey } from "@ndn/keychain";
import { enableNfdPrefixReg } from "@ndn/nfdmgmt";
import { UnixTransport } from "@ndn/node-transport";
import { Segment } from "@ndn/naming-convention2";
import { Component, Data, digestSigning, Interest, Name, SignedInterestPolicy, TT } from "@ndn/packet";
import { Decoder, Encoder, NNI } from "@ndn/tlv";
import { crypto, delay, sha256, toHex } from "@ndn/util";

// ndn-python-repo TLV-TYPEs (NDNts pkg/pyrepo packet.ts and prps/packet.ts).
const T = {
  NotifyNonce: 0x80,
  StartBlockId: 0xCC,
  EndBlockId: 0xCD,
  RequestNo: 0xCE,
  StatusCode: 0xD0,
  InsertNum: 0xD1,
  DeleteNum: 0xD2,
  ForwardingHint: 0xD3,
  ObjectParam: 0x12D,
  ObjectResult: 0x12E,
};

const verbs = {
  insert: { action: Component.from("insert"), check: new Component(TT.GenericNameComponent, "insert check") },
  delete: { action: Component.from("delete"), check: new Component(TT.GenericNameComponent, "delete check") },
};

const sip = new SignedInterestPolicy(SignedInterestPolicy.Nonce());

function log(...a) {
  console.log(...a);
}

async function readLine(rl, prefix) {
  for await (const line of rl) {
    if (line.startsWith(prefix)) {
      return line.slice(prefix.length).trim();
    }
  }
  throw new Error(`stdin closed before ${prefix.trim()}`);
}

function toB64(u8) {
  return Buffer.from(u8).toString("base64");
}

function fromB64(s) {
  return new Uint8Array(Buffer.from(s, "base64"));
}

/** Publisher: PrpsPublisher's protocol (notify + message Data). */
class Publisher {
  constructor(fw, pubPrefix, signer) {
    this.fw = fw;
    this.pubPrefix = pubPrefix;
    this.signer = signer;
    this.pendings = new Map(); // message name (hex TLV) → content
    this.producer = produce(pubPrefix.append("msg"), async (interest) => {
      const content = this.pendings.get(toHex(interest.name.value));
      if (!content) {
        log(`msg interest for unknown ${interest.name}`);
        return undefined;
      }
      log(`serving message ${interest.name}`);
      const data = new Data(interest.name, content);
      await this.signer.sign(data);
      return data;
    }, { fw, announcement: pubPrefix, describe: "prps-pub" });
  }

  close() {
    this.producer.close();
  }

  async publish(topic, content) {
    const nonce = new Uint8Array(8);
    crypto.getRandomValues(nonce);
    const msgName = this.pubPrefix.append("msg", ...topic.comps, new Component(TT.GenericNameComponent, nonce));
    this.pendings.set(toHex(msgName.value), content);
    const notify = new Interest(topic.append("notify"));
    notify.appParameters = Encoder.encode([this.pubPrefix, [T.NotifyNonce, nonce]]);
    sip.update(notify, this);
    await digestSigning.sign(notify);
    try {
      await consume(notify, { fw: this.fw, retx: 0, describe: "prps-notify" });
    } finally {
      this.pendings.delete(toHex(msgName.value));
    }
  }
}

// ObjectParam as @ndn/pyrepo makeObjectParam encodes it: the name, the
// publisher's forwarding hint, and block ids for a segment range.
function objectParam(obj, fwHint) {
  const { name, start, end } = obj instanceof Name ? { name: obj } : obj;
  return [T.ObjectParam, name, [T.ForwardingHint, fwHint],
    Number.isInteger(start) && [T.StartBlockId, NNI(start)],
    Number.isInteger(end) && [T.EndBlockId, NNI(end)]];
}

function decodeCommandRes(content) {
  const res = { statusCode: -1, objects: [] };
  const d = new Decoder(content);
  while (!d.eof) {
    const tlv = d.read();
    if (tlv.type === T.StatusCode) {
      res.statusCode = tlv.nni;
    } else if (tlv.type === T.ObjectResult) {
      const o = {};
      const vd = tlv.vd;
      while (!vd.eof) {
        const f = vd.read();
        switch (f.type) {
          case TT.Name: o.name = f.decoder.decode(Name).toString(); break;
          case T.StatusCode: o.statusCode = f.nni; break;
          case T.InsertNum: o.insertNum = f.nni; break;
          case T.DeleteNum: o.deleteNum = f.nni; break;
        }
      }
      res.objects.push(o);
    }
  }
  return res;
}

/** PyRepoClient.submit for one command: publish, then poll check. */
async function command(fw, pub, repo, verb, objs, timeout = 30000) {
  const request = Encoder.encode(objs.map((o) => objectParam(o, pub.pubPrefix)));
  await pub.publish(repo.append(verb.action), request);
  const requestNo = await sha256(request);
  log(`published ${verb.action.toString()} request ${toHex(requestNo)}`);
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    await delay(300);
    const check = new Interest(repo.append(verb.check));
    check.appParameters = Encoder.encode([T.RequestNo, requestNo]);
    sip.update(check, pub);
    await digestSigning.sign(check);
    let data;
    try {
      data = await consume(check, { fw, retx: 0, describe: "pyrepo-check" });
    } catch (err) {
      log(`check: ${err.message}`);
      continue;
    }
    const res = decodeCommandRes(data.content);
    log(`check ${verb.check.toString()}: ${JSON.stringify(res)}`);
    if (res.statusCode >= 400) {
      throw new Error(`RepoCommandRes ${res.statusCode}`);
    }
    if (res.statusCode === 200) {
      return res;
    }
  }
  throw new Error("command timeout");
}

async function main() {
  const [repoArg, idArg = "/test/ndnts", countArg = "3", mode = "single"] = process.argv.slice(2);
  if (!repoArg || !["single", "range"].includes(mode)) {
    throw new Error("usage: node insert.mjs REPO-PREFIX [IDENTITY] [COUNT] [single|range]");
  }
  const transport = process.env.NDN_CLIENT_TRANSPORT ?? "unix:///run/nfd/nfd.sock";
  const sock = transport.replace(/^unix:\/\//, "");
  const repo = new Name(repoArg);
  const identity = new Name(idArg);
  const count = Number.parseInt(countArg, 10);

  // Key and certificate: self-signed, then certified by the Go side.
  const [privateKey, publicKey] = await generateSigningKey(identity);
  const selfCert = await Certificate.selfSign({ privateKey, publicKey });
  log(`CSR ${toB64(Encoder.encode(selfCert.data))}`);
  const rl = createInterface({ input: process.stdin });
  const cert = Certificate.fromData(new Decoder(fromB64(await readLine(rl, "CERT "))).decode(Data));
  rl.close();
  log(`certificate ${cert.name}`);
  const signer = privateKey.withKeyLocator(cert.name);

  const fw = Forwarder.getDefault();
  const face = await UnixTransport.createFace({ fw }, sock);
  enableNfdPrefixReg(face, { signer });

  const pubPrefix = identity.append("pub");
  fw.nodeNames.push(pubPrefix); // as PyRepoClient does for its forwarding hint
  const keyName = privateKey.name;
  const certProducer = produce(keyName, async () => cert.data, { fw, announcement: keyName, describe: "cert" });

  // The Data to insert, served only on this forwarder: the repo reaches them
  // through the ForwardingHint (the publisher prefix), as with @ndn/pyrepo.
  // single: COUNT packets <id>/data/<i>, inserted as COUNT objects.
  // range: one object <id>/obj with segments 0..COUNT-1, inserted as one
  // segment range (StartBlockId/EndBlockId).
  const dataPrefix = identity.append(mode === "single" ? "data" : "obj");
  const packets = new Map();
  for (let i = 0; i < count; i++) {
    const data = mode === "single" ?
      new Data(dataPrefix.append(`${i}`), new TextEncoder().encode(`NDNts packet ${i}`)) :
      new Data(dataPrefix.append(Segment, i), new TextEncoder().encode(`NDNts segment ${i}`));
    if (mode === "range" && i === count - 1) {
      data.finalBlockId = data.name.get(-1);
    }
    await signer.sign(data);
    packets.set(data.name.toString(), data);
  }
  const dataProducer = produce(dataPrefix, async (interest) => {
    const d = packets.get(interest.name.toString());
    log(`data interest ${interest.name}${interest.fwHint ? " fwHint " + interest.fwHint.delegations.join(",") : ""}: ${d ? "served" : "unknown"}`);
    return d;
  }, { fw, announcement: process.env.NDNTS_ANNOUNCE_DATA === "1" ? dataPrefix : false, describe: "data" });

  const pub = new Publisher(fw, pubPrefix, signer);
  await delay(1000); // let the prefix registrations reach the forwarder

  let ok = false;
  try {
    const names = [...packets.values()].map((d) => d.name);
    const objs = mode === "single" ? names : [{ name: dataPrefix, start: 0, end: count - 1 }];
    const ins = await command(fw, pub, repo, verbs.insert, objs);
    log(`RESULT insert ${ins.statusCode} ${names.map(String).join(" ")}`);
    const del = await command(fw, pub, repo, verbs.delete, [names[0]]);
    log(`RESULT delete ${del.statusCode} ${names[0]}`);
    ok = true;
  } finally {
    pub.close();
    dataProducer.close();
    certProducer.close();
    face.close();
  }
  return ok;
}

try {
  const ok = await main();
  process.exit(ok ? 0 : 1);
} catch (err) {
  console.error(`FAIL ${err?.stack ?? err}`);
  process.exit(1);
}
