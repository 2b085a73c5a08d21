//! The daemon's TLS certificate is self-signed, so no CA vouches for it: the desktop pins its
//! fingerprint instead (trust on first use, compared by the user with what
//! `bitaxe-scheduler --status` prints) and refuses a changed one. The verifier accepts exactly
//! the pinned certificate, whatever its names or dates say; without a pin it only records what
//! the server showed and fails the handshake, so no request (and no token) is ever sent to a
//! server the user has not confirmed.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// `SHA256:` + uppercase hex pairs joined by `:` of SHA-256 over the certificate's DER: the
/// daemon's own function, so what the app pins is what `bitaxe-scheduler --status` prints.
pub use bitaxe_api::tls::fingerprint;

/// A fingerprint as typed or stored, in the canonical form; `None` if it is not one.
pub fn normalise(fp: &str) -> Option<String> {
    let hex = fp.trim();
    let hex = hex
        .strip_prefix("SHA256:")
        .or_else(|| hex.strip_prefix("sha256:"))
        .unwrap_or(hex);
    let digits: String = hex.chars().filter(|c| *c != ':' && *c != ' ').collect();
    if digits.len() != 64 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let upper = digits.to_ascii_uppercase();
    let pairs: Vec<&str> = (0..32)
        .filter_map(|i| upper.get(i * 2..i * 2 + 2))
        .collect();
    Some(format!("SHA256:{}", pairs.join(":")))
}

/// Accepts the server whose certificate has the pinned fingerprint (or, unpinned, records it
/// and refuses). The last fingerprint seen is kept so a refusal can say what changed.
#[derive(Debug)]
pub struct PinVerifier {
    pin: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
    provider: Arc<CryptoProvider>,
}

impl PinVerifier {
    pub fn new(pin: Option<String>) -> PinVerifier {
        PinVerifier {
            pin,
            seen: Arc::default(),
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        }
    }

    /// Where the fingerprint of the last certificate shown ends up.
    pub fn seen(&self) -> Arc<Mutex<Option<String>>> {
        self.seen.clone()
    }

    /// A rustls client configuration that trusts only this verifier.
    pub fn into_config(self) -> Result<rustls::ClientConfig, rustls::Error> {
        let provider = self.provider.clone();
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(self))
            .with_no_client_auth())
    }
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let found = fingerprint(end_entity.as_ref());
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(found.clone());
        }
        match &self.pin {
            Some(pin) if *pin == found => Ok(ServerCertVerified::assertion()),
            Some(_) => Err(rustls::Error::General(
                "the certificate is not the pinned one".into(),
            )),
            None => Err(rustls::Error::General(
                "certificate recorded, not yet trusted".into(),
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_sha256_in_uppercase_pairs() {
        // SHA-256 of the empty input.
        let fp = fingerprint(b"");
        assert_eq!(
            fp,
            "SHA256:E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55"
        );
        assert_eq!(normalise(&fp.to_lowercase()).as_deref(), Some(fp.as_str()));
        let bare: String = fp["SHA256:".len()..].replace(':', "");
        assert_eq!(normalise(&bare).as_deref(), Some(fp.as_str()));
        assert_eq!(normalise("SHA256:AB:CD"), None);
        assert_eq!(normalise(&format!("{bare}zz")), None);
    }
}
