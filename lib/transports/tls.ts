/**
 * TLS failures that are configuration, not bad luck: a certificate the client does not accept
 * (self-signed, unknown issuer, expired, issued for another host name) or no TLS version both
 * sides speak (implicit TLS against a plain-text port reads as "wrong version number"). Retrying
 * on the same route repeats them; someone has to fix the route (or trust its certificate).
 * A handshake that was reset or timed out is not among them: that is the network.
 */

/** Node's and OpenSSL's codes for them, as `err.code` carries them (Node's tls, https, axios). */
const TLS_CONFIG_CODE =
	/^(?:DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|UNABLE_TO_DECRYPT_CERT_SIGNATURE|CERT_[A-Z_]+|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_UNSUPPORTED_PROTOCOL|ERR_SSL_NO_PROTOCOLS_AVAILABLE|ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION)$/;

/**
 * The same in text: the codes above, and the words Node and OpenSSL use for them where a library
 * passed the message on without its code (nodemailer's "Error initiating TLS - self-signed
 * certificate", OpenSSL's "…:wrong version number:…").
 */
const TLS_CONFIG_TEXT =
	/CERT|SELF[_ -]SIGNED|UNABLE[_ ]TO[_ ](?:VERIFY|GET[_ ]ISSUER)|ALTNAME|HOSTNAME[_ ]MISMATCH|WRONG[_ ]VERSION[_ ]NUMBER|UNSUPPORTED[_ ]PROTOCOL|NO[_ ]PROTOCOLS[_ ]AVAILABLE|ALERT[_ ]PROTOCOL[_ ]VERSION/i;

/** `text` holds a TLS configuration failure's code or wording (codes and message, joined). */
export function isTlsConfigText(text: string): boolean {
	return TLS_CONFIG_TEXT.test(text);
}

/** An error (or its cause) carries a TLS configuration failure's code. By code only. */
export function isTlsConfigError(error: unknown): boolean {
	for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
		const { code, cause } = e as { code?: unknown; cause?: unknown };
		if (typeof code === 'string' && TLS_CONFIG_CODE.test(code)) return true;
		e = cause;
	}
	return false;
}
