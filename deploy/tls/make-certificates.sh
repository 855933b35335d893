#!/usr/bin/env bash
# Makes a private CA and the nv2 admission server's certificate with openssl (deploy/README.md, "TLS").
#
#   deploy/tls/make-certificates.sh <output directory>
#
# Writes, in a new or empty directory (files mode 0600):
#   ca.crt   the CA certificate: base64 it into the caBundle of the Gatekeeper Providers / webhook configurations
#   ca.key   the CA's key: keep it offline, it is only needed to issue the next server certificate
#   tls.crt  the server certificate (ECDSA P-256, serverAuth, 365 days) for the Service's DNS names
#   tls.key  its key, for the Secret nv2-admission-tls
# NV2_SERVICE / NV2_NAMESPACE change the Service name (nv2-admission) and namespace (nv2-system);
# NV2_TLS_DAYS the server certificate's lifetime.
set -euo pipefail

out=${1:?usage: make-certificates.sh <output directory>}
service=${NV2_SERVICE:-nv2-admission}
namespace=${NV2_NAMESPACE:-nv2-system}
days=${NV2_TLS_DAYS:-365}

mkdir -p "$out"
for file in ca.crt ca.key tls.crt tls.key; do
  if [[ -e "$out/$file" ]]; then
    echo "make-certificates: $out/$file exists; not overwriting it (use a new directory)" >&2
    exit 1
  fi
done
umask 077
work=$(mktemp -d "$out/.make-certificates.XXXXXX")
trap 'rm -rf "$work"' EXIT

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
  -subj "/O=nv2/CN=nv2 admission CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
  -subj "/O=nv2/CN=$service.$namespace.svc" \
  -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null

# Gatekeeper's Providers call https://<service>.<namespace>:8443, the API server calls <service>.<namespace>.svc.
printf '%s\n' \
  "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth" \
  "subjectAltName=DNS:$service.$namespace.svc,DNS:$service.$namespace,DNS:$service.$namespace.svc.cluster.local" \
  > "$work/server.ext"
openssl x509 -req -sha256 -days "$days" -in "$work/tls.csr" \
  -CA "$work/ca.crt" -CAkey "$work/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
  -extfile "$work/server.ext" -out "$work/tls.crt" 2>/dev/null

openssl verify -CAfile "$work/ca.crt" -purpose sslserver "$work/tls.crt" >/dev/null
for file in ca.crt ca.key tls.crt tls.key; do
  mv "$work/$file" "$out/$file"
done
echo "make-certificates: wrote $out/{ca.crt,ca.key,tls.crt,tls.key} for $service.$namespace.svc"
