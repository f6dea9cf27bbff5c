//! The Bedrock client's HTTPS client when it trusts Amazon's roots only (`TlsRoots::Amazon`, the
//! default inside Lambda).
//!
//! Every AWS endpoint, Bedrock Runtime's included, presents a certificate that chains to Amazon
//! Trust Services: Amazon Root CA 1 to 4, and Starfield Services Root CA G2, which cross-signs
//! them for older clients. Trusting those five alone means no other authority in the system's
//! store can pose as Bedrock, and spares the cold start what the SDK's default client does first:
//! read the system's ~140 roots and parse each: the `cold_start` bench runs converse both ways,
//! and the system's store adds 0.7–1.3 ms to its init (README > Performance).

use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Amazon Root CA 1, 2, 3, 4 and Starfield Services Root Certificate Authority - G2, PEM, as
/// Debian's ca-certificates ships them (their SHA-256 fingerprints are checked by the tests).
pub const AMAZON_ROOTS: &[u8] = include_bytes!("amazon_roots.pem");

/// The SDK's own HTTPS client (rustls with aws-lc, as its `default-https-client` builds it) that
/// trusts the PEM certificates `roots` and nothing else.
pub fn https_client_trusting(roots: &[u8]) -> SharedHttpClient {
    let trust = TrustStore::empty().with_pem_certificate(roots);
    let context = match TlsContext::builder().with_trust_store(trust).build() {
        Ok(context) => context,
        // The builder only stores the trust store; it has no failing case.
        Err(never) => unreachable!("TlsContext::build: {never}"),
    };
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use sha2::{Digest, Sha256};

    use super::AMAZON_ROOTS;

    /// The published SHA-256 fingerprints of Amazon Trust Services' roots
    /// (https://www.amazontrust.com/repository/).
    const FINGERPRINTS: [&str; 5] = [
        "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e", // Amazon Root CA 1
        "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4", // Amazon Root CA 2
        "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4", // Amazon Root CA 3
        "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092", // Amazon Root CA 4
        "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5", // Starfield Services Root CA G2
    ];

    #[test]
    fn the_embedded_roots_are_exactly_amazon_trust_services() {
        let certs: Vec<CertificateDer> =
            CertificateDer::pem_slice_iter(AMAZON_ROOTS).collect::<Result<_, _>>().expect("valid PEM");
        let fingerprints: Vec<String> = certs.iter().map(|der| hex::encode(Sha256::digest(der))).collect();
        assert_eq!(fingerprints, FINGERPRINTS);
    }
}
