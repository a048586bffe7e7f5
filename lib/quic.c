/*
 * Shared QUIC pieces: see quic.h.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include "quic.h"
#include "util.h"

/* TLS 1.3 only, no middlebox compatibility mode (RFC 9001 8.4), the
 * AEADs QUIC defines, the usual groups. */
#define GS_QUIC_PRIORITY \
	"%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:" \
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1"

uint64_t
gs_quic_ts(void)
{
	return gs_now_us() * NGTCP2_MICROSECONDS;
}

size_t
gs_quic_varint_len(uint64_t v)
{
	if (v < 64)
		return 1;
	if (v < 16384)
		return 2;
	if (v < 1073741824)
		return 4;
	return 8;
}

size_t
gs_quic_varint_put(uint8_t *p, uint64_t v)
{
	size_t	n = gs_quic_varint_len(v), i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	/* The two high bits: 0, 1, 2, 3 for 1, 2, 4, 8 bytes. */
	p[0] |= (uint8_t)((n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : 3) << 6);
	return n;
}

size_t
gs_quic_varint_get(const uint8_t *p, size_t len, uint64_t *v)
{
	size_t		n, i;
	uint64_t	x;

	if (len == 0)
		return 0;
	n = (size_t)1 << (p[0] >> 6);
	if (len < n)
		return 0;
	x = p[0] & 0x3f;
	for (i = 1; i < n; i++)
		x = x << 8 | p[i];
	*v = x;
	return n;
}

void
gs_quic_rx_init(struct gs_quic_rx *rx, size_t max)
{
	memset(rx, 0, sizeof(*rx));
	rx->max = max;
}

void
gs_quic_rx_free(struct gs_quic_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->have = rx->want = rx->nhdr = 0;
	rx->skip = 0;
}

int
gs_quic_rx_feed(struct gs_quic_rx *rx, const uint8_t *data, size_t len,
    gs_quic_msg_fn *fn, void *arg)
{
	uint64_t	v = 0;
	size_t		n, need;

	while (len > 0) {
		if (rx->skip > 0) {		/* a message too big */
			n = rx->skip < len ? (size_t)rx->skip : len;
			rx->skip -= n;
			data += n;
			len -= n;
			continue;
		}
		if (rx->want > 0) {		/* a message being completed */
			n = rx->want - rx->have < len ? rx->want - rx->have :
			    len;
			memcpy(rx->buf + rx->have, data, n);
			rx->have += n;
			data += n;
			len -= n;
			if (rx->have < rx->want)
				return 0;
			fn(arg, GS_QUIC_RX_OK, rx->buf, rx->want);
			free(rx->buf);
			rx->buf = NULL;
			rx->have = rx->want = 0;
			continue;
		}
		/* A length, maybe begun in an earlier receive. */
		if (rx->nhdr > 0 || gs_quic_varint_get(data, len, &v) == 0) {
			if (rx->nhdr == 0) {
				rx->hdr[0] = data[0];
				rx->nhdr = 1;
				data++;
				len--;
			}
			need = (size_t)1 << (rx->hdr[0] >> 6);
			n = need - rx->nhdr < len ? need - rx->nhdr : len;
			memcpy(rx->hdr + rx->nhdr, data, n);
			rx->nhdr += n;
			data += n;
			len -= n;
			if (rx->nhdr < need)
				return 0;
			(void)gs_quic_varint_get(rx->hdr, need, &v);
			rx->nhdr = 0;
		} else {
			n = gs_quic_varint_get(data, len, &v);
			data += n;
			len -= n;
		}
		if (v == 0) {
			fn(arg, GS_QUIC_RX_EMPTY, NULL, 0);
			continue;
		}
		if (v > rx->max) {
			fn(arg, GS_QUIC_RX_TOOBIG, NULL, (size_t)v);
			rx->skip = v;
			continue;
		}
		if (len >= v) {			/* whole: where it lies */
			fn(arg, GS_QUIC_RX_OK, data, (size_t)v);
			data += v;
			len -= (size_t)v;
			continue;
		}
		if ((rx->buf = malloc((size_t)v)) == NULL)
			return -1;
		memcpy(rx->buf, data, len);
		rx->have = len;
		rx->want = (size_t)v;
		return 0;
	}
	return 0;
}

void
gs_quic_random(void *p, size_t len)
{
	uint8_t	*dest = p;
	ssize_t	 n;

	while (len > 0) {
		if ((n = getrandom(dest, len, 0)) < 0) {
			if (errno == EINTR)
				continue;
			abort();	/* no randomness: nothing is safe */
		}
		dest += n;
		len -= (size_t)n;
	}
}

static void
gs_quic_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	gs_quic_random(dest, len);
}

void
gs_quic_callbacks(ngtcp2_callbacks *cb, bool server)
{
	memset(cb, 0, sizeof(*cb));
	if (server)
		cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
	else {
		cb->client_initial = ngtcp2_crypto_client_initial_cb;
		cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
	}
	cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
	cb->encrypt = ngtcp2_crypto_encrypt_cb;
	cb->decrypt = ngtcp2_crypto_decrypt_cb;
	cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
	cb->update_key = ngtcp2_crypto_update_key_cb;
	cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
	cb->delete_crypto_cipher_ctx =
	    ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
	cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
	cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
	cb->rand = gs_quic_rand;
}

/* An address, not a name: no SNI (RFC 6066 3). */
static bool
gs_quic_is_addr(const char *host)
{
	return strchr(host, ':') != NULL ||
	    strspn(host, "0123456789.") == strlen(host);
}

int
gs_quic_tls_new(gnutls_session_t *out, bool server,
    gnutls_certificate_credentials_t cred, const char *host,
    ngtcp2_crypto_conn_ref *ref, char *err, size_t errlen)
{
	gnutls_session_t	 s;
	gnutls_datum_t		 alpn = { (unsigned char *)GS_QUIC_ALPN,
				    sizeof(GS_QUIC_ALPN) - 1 };
	const char		*what;
	int			 rv;

	rv = gnutls_init(&s, (server ? GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET :
	    GNUTLS_CLIENT) | GNUTLS_NO_END_OF_EARLY_DATA);
	if (rv != 0) {
		(void)snprintf(err, errlen, "gnutls_init: %s",
		    gnutls_strerror(rv));
		return -1;
	}
	what = "priority";
	if ((rv = gnutls_priority_set_direct(s, GS_QUIC_PRIORITY, NULL)) != 0)
		goto fail;
	what = "ngtcp2 configure";
	if ((server ? ngtcp2_crypto_gnutls_configure_server_session(s) :
	    ngtcp2_crypto_gnutls_configure_client_session(s)) != 0) {
		rv = GNUTLS_E_INTERNAL_ERROR;
		goto fail;
	}
	what = "credentials";
	if ((rv = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred)) !=
	    0)
		goto fail;
	/* Mandatory: a peer that offers no "gs.v2" fails the handshake
	 * with no_application_protocol. */
	what = "alpn";
	if ((rv = gnutls_alpn_set_protocols(s, &alpn, 1,
	    GNUTLS_ALPN_MANDATORY)) != 0)
		goto fail;
	if (!server) {
		what = "server name";
		if (!gs_quic_is_addr(host) && (rv = gnutls_server_name_set(s,
		    GNUTLS_NAME_DNS, host, strlen(host))) != 0)
			goto fail;
		gnutls_session_set_verify_cert(s, host, 0);
	}
	gnutls_session_set_ptr(s, ref);
	*out = s;
	return 0;
fail:
	(void)snprintf(err, errlen, "gnutls %s: %s", what, gnutls_strerror(rv));
	gnutls_deinit(s);
	return -1;
}
