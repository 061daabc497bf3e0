#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) from the recorded
kube-apiserver exchanges (tests/fixtures/kube-apiserver-replays) and, when given one, a
real journal (`spr demo --journal DIR`; read with RocksDB's `ldb`). Deterministic: the
same inputs give the same files. Usage: make_seeds.py [--journal DIR] [--kubeconfig FILE]"""
import argparse, glob, hashlib, json, os, random, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "kube-apiserver-replays")
MAX_SEED = 8192  # keeps libFuzzer's default -max_len (the largest seed) small enough to be fast


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def exchanges():
    for path in sorted(glob.glob(os.path.join(FIXTURES, "v1-3*", "*.json"))):
        with open(path) as f:
            yield os.path.basename(path), json.load(f)


def trim_lines(body, limit):
    out = ""
    for line in body.splitlines(keepends=True):
        if len(out) + len(line) > limit:
            break
        out += line
    return out


def watch_seeds():
    for name, ex in exchanges():
        for e in ex:
            body = e.get("response_body") or ""
            if "watch=" in e["request_url"]:
                body = trim_lines(body, MAX_SEED - 1)
                for chunk in (0, 7, 63):
                    write("watch_stream", bytes([chunk]) + body.encode())
            elif e["request_method"] == "GET" and body.startswith("{"):  # a list or object, as one line
                write("watch_stream", b"\x10" + ('{"type":"ADDED","object":%s}\n' % body).encode()[:MAX_SEED])
            if e["response_status_code"] >= 400 and body:  # API Status as an ERROR event
                write("watch_stream", b"\x05" + ('{"type":"ERROR","object":%s}\r\n' % body).encode())
    write("watch_stream", b'\x03{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"12",'
          b'"annotations":{"k8s.io/initial-events-end":"true"}}}}\n{"type":"DELETED","object":{"metadata":'
          b'{"name":"a","namespace":"n","resourceVersion":"13"}}}\npartial')


def sim_request_seeds():
    for name, ex in exchanges():
        reqs = []
        for e in ex:
            body = e.get("request_body") or ""
            ctype = e.get("request_content_type") or ""
            reqs.append("%s %s\n%s\n%s\n%s" % (e["request_method"], e["request_url"], ctype,
                                                "application/json", body))
        seed = "\n%%\n".join(reqs)
        if len(seed) > MAX_SEED:
            seed = "\n%%\n".join(r for r in reqs if len(r) < 3000)
        write("sim_request", seed)
    cm = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","labels":{"app":"x","tier":"db"}},"data":{"k":"v"}}'
    write("sim_request", "\n%%\n".join([
        "POST /api/v1/namespaces/default/configmaps\napplication/json\n\n" + cm,
        "GET /api/v1/namespaces/default/configmaps?labelSelector=app%3Dx,tier+in+(db,web),!gone&limit=1\n\n\n",
        "GET /api/v1/configmaps?fieldSelector=metadata.name%3Dc1,metadata.namespace!%3Dother\n\n\n",
        "PATCH /api/v1/namespaces/default/configmaps/c1\napplication/merge-patch+json\n\n{\"data\":{\"k\":null,\"n\":\"1\"}}",
        "PATCH /api/v1/namespaces/default/configmaps/c1?fieldManager=fuzz&force=true\napplication/apply-patch+yaml\n\n" + cm,
        "PATCH /api/v1/namespaces/default/configmaps/c1\napplication/json-patch+json\n\n"
        '[{"op":"add","path":"/metadata/labels/new","value":"1"},{"op":"move","from":"/data/n","path":"/data/m"}]',
        "GET /api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0&allowWatchBookmarks=true\n\n\n",
        "GET /api/v1/namespaces/default/configmaps/c1\n\napplication/json;as=Table;v=v1;g=meta.k8s.io\n",
        "DELETE /api/v1/namespaces/default/configmaps/c1?propagationPolicy=Foreground\napplication/json\n\n"
        '{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"1"}}',
        "DELETE /api/v1/namespaces/default/configmaps?labelSelector=app\n\n\n"]))
    dep = ('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","finalizers":["x/y"]},"spec":'
           '{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":'
           '{"containers":[{"name":"c","image":"i","env":[{"name":"A","value":"1"}]}]}}}}')
    write("sim_request", "\n%%\n".join([
        "POST /apis/apps/v1/namespaces/default/deployments\napplication/json\n\n" + dep,
        "PATCH /apis/apps/v1/namespaces/default/deployments/d\napplication/strategic-merge-patch+json\n\n"
        '{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"j"},{"name":"d","image":"k"}]}}}}',
        "PUT /apis/apps/v1/namespaces/default/deployments/d/status\napplication/json\n\n" + dep,
        "DELETE /apis/apps/v1/namespaces/default/deployments/d\n\n\n",
        "PATCH /apis/apps/v1/namespaces/default/deployments/d\napplication/merge-patch+json\n\n"
        '{"metadata":{"finalizers":null}}',
        "GET /apis/apps/v1/deployments?watch=true&resourceVersion=1&timeoutSeconds=1\n\n\n",
        "DELETE /api/v1/namespaces/default\n\n\n"]))


KUBECONFIG = """apiVersion: v1
kind: Config
current-context: %(ctx)s
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443/clusters/onboarding
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
- name: c2
  cluster:
    server: https://kind.local:6443
    insecure-skip-tls-verify: true
users:
- name: u1
  user:
    token: abc.def
- name: u2
  user:
    client-certificate: certs/client.crt
    client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUIKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo=
- name: u3
  user:
    exec:
      command: gcloud
      apiVersion: client.authentication.k8s.io/v1
contexts:
- name: a
  context: {cluster: c1, user: u1, namespace: ns-a}
- name: b
  context: {cluster: c2, user: u2}
- name: e
  context: {cluster: c2, user: u3}
"""


def kubeconfig_seeds(extra):
    write("kubeconfig", KUBECONFIG % {"ctx": "a"})
    write("kubeconfig", KUBECONFIG % {"ctx": "b"} + "\n#@@\n" + KUBECONFIG % {"ctx": "e"})
    write("kubeconfig", "apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts:\n- name: x\n  context:\n"
          "    cluster: nope\n    user: nope\n#@@\nclusters:\n- name: nope\n  cluster:\n    server: http://h\n"
          "    certificate-authority: /etc/ca.crt\nusers:\n- name: nope\n  user:\n    tokenFile: t\n"
          "    username: a\n    password: b\n#@@\n{}")
    write("kubeconfig", "clusters: [{name: c, cluster: {server: 'https://[::1]:1'}}]\nusers: "
          "[{name: u, user: {auth-provider: {name: oidc}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
          "current-context: x\n")
    for path in extra:  # bearer tokens replaced: seeds are checked in
        with open(path) as f:
            text = re.sub(r"(token: ).*", r"\1fuzz-token", f.read())
        write("kubeconfig", text)


def lifecycle_seeds(journal):
    rng = random.Random(20261128)
    # ConfigSeen present, ObjectSeen gen 1 with finalizer, then the in-flight effect completing.
    write("lifecycle", bytes([2, 61, 0, 9, 4, 0, 1, 4, 1, 0, 3, 1, 4, 5, 0, 0, 4, 0, 0]))
    for n in (16, 64, 256, 1024):
        for _ in range(4):
            write("lifecycle", bytes(rng.randrange(256) for _ in range(n)))
    if journal:
        for value in ldb_values(journal, "state")[:24]:  # {"lifecycle": State, ...}
            state = json.loads(value).get("lifecycle")
            if state is not None:
                write("lifecycle", json.dumps(state, sort_keys=True))


def ldb_values(journal, cf):
    out = subprocess.run(["ldb", "--db=" + journal, "--column_family=" + cf, "--value_hex", "--try_load_options", "scan"],
                         check=True, capture_output=True, text=True).stdout
    values = []
    for line in out.splitlines():  # "<key> : 0x<HEX>"
        if " : 0x" in line:
            values.append(bytes.fromhex(line.rsplit(" : 0x", 1)[1].strip()))
    return values


def journal_seeds(journal):
    if not journal:
        print("no --journal: journal_record seeds not rewritten", file=sys.stderr)
        return
    values = ldb_values(journal, "log")
    # Every record kind appears; cap the count by spreading picks over the journal.
    step = max(1, len(values) // 48)
    for v in values[::step]:
        write("journal_record", v)
    kinds = {}
    for v in values:
        kinds.setdefault(len(v) // 256, v)
    for v in kinds.values():
        write("journal_record", v)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--journal", help="a real spr journal directory (spr demo --journal DIR)")
    p.add_argument("--kubeconfig", action="append", default=[], help="a real kubeconfig (spr sim --kubeconfig-out)")
    a = p.parse_args()
    if a.journal and not os.path.isdir(a.journal):
        sys.exit("--journal %s: not a directory; run `spr demo --journal DIR` first" % a.journal)
    watch_seeds()
    sim_request_seeds()
    kubeconfig_seeds(a.kubeconfig)
    lifecycle_seeds(a.journal)
    journal_seeds(a.journal)


if __name__ == "__main__":
    main()
