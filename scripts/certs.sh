# shellcheck shell=bash
# Certificates for TLS on this machine (bash; sourced by scripts/run and
# tests/lib.sh): a self-signed authority, and leaves it signs for given
# names.  EC P-256 keys, which openssl makes in milliseconds.  The
# extensions are spelled out here, not taken from the system's
# openssl.cnf, so that GnuTLS (gs-gateway's QUIC, gs-loadgen) and
# mbedTLS (NNG) accept what is made whatever that file says.
#
# Each function is silent when it succeeds; on failure it prints
# openssl's own message on stderr and returns non-zero.  Keys are made
# mode 0600.

# certs_openssl ARGS...: openssl, its chatter kept back unless it fails.
certs_openssl() {
	local out
	out=$(openssl "$@" 2>&1) && return 0
	printf 'openssl %s: %s\n' "$1" "$out" >&2
	return 1
}

# certs_ca DIR NAME DAYS: DIR/NAME.pem, a self-signed authority with
# the common name NAME, and its key DIR/NAME.key.
certs_ca() {
	local d=$1 n=$2 days=$3
	(umask 077 && certs_openssl req -x509 -newkey ec \
	    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
	    -subj "/CN=$n" -keyout "$d/$n.key" -out "$d/$n.pem" \
	    -config <(printf '%s\n' '[req]' 'distinguished_name=dn' \
	    'x509_extensions=ca' '[dn]' '[ca]' \
	    'basicConstraints=critical,CA:TRUE' \
	    'keyUsage=critical,keyCertSign,cRLSign' \
	    'subjectKeyIdentifier=hash')) &&
	chmod 644 "$d/$n.pem"
}

# certs_leaf DIR CA NAME DAYS SAN: DIR/NAME.pem, a server (and client)
# certificate for the names and addresses of SAN (openssl's syntax:
# "DNS:localhost,IP:127.0.0.1"), signed by the authority DIR/CA.pem, and
# its key DIR/NAME.key.
certs_leaf() {
	local d=$1 ca=$2 n=$3 days=$4 san=$5
	(umask 077 && certs_openssl req -new -newkey ec \
	    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$n" \
	    -keyout "$d/$n.key" -out "$d/$n.csr" \
	    -config <(printf '%s\n' '[req]' 'distinguished_name=dn' '[dn]')) &&
	certs_openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.pem" \
	    -CAkey "$d/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
	    -days "$days" -out "$d/$n.pem" \
	    -extfile <(printf '%s\n' "subjectAltName=$san" \
	    'basicConstraints=critical,CA:FALSE' \
	    'keyUsage=critical,digitalSignature' \
	    'extendedKeyUsage=serverAuth,clientAuth' \
	    'authorityKeyIdentifier=keyid') &&
	rm -f "$d/$n.csr"
}

# certs_valid FILE: FILE is a certificate still valid a day from now.
certs_valid() {
	openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1
}
