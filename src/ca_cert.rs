//! Trusting a private certificate authority: a self-managed GitLab whose certificate is signed by
//! a company CA is reached by adding that CA's certificates (`--ca-cert FILE`, or the config's
//! `network.ca_cert`) to the system's. Certificate verification itself is never switched off:
//! no flag, setting or variable does that.

use std::error::Error as StdError;
use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

const PEM_HINT: &str = "give a PEM file of one or more certificates (-----BEGIN CERTIFICATE-----), such as the CA certificate your administrators publish; convert a DER file with `openssl x509 -inform der -in ca.der -out ca.pem`";

/// A CA certificate file that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the CA certificate file {path} ({origin}): {problem}\n  hint: {hint}")]
pub struct CaCertError {
    pub path: String,
    /// Where the file was named: `--ca-cert` or `network.ca_cert`.
    pub origin: String,
    problem: String,
    hint: String,
}

/// Reads every certificate of a PEM file (a bundle of several is fine), checking that each is a
/// certificate a TLS client can trust; `origin` says where the file was named, for messages.
pub fn load(path: &Path, origin: &str) -> Result<Vec<reqwest::Certificate>, CaCertError> {
    let failed = |problem: String, hint: &str| CaCertError {
        path: path.display().to_string(),
        origin: origin.to_string(),
        problem,
        hint: hint.to_string(),
    };
    let bytes = std::fs::read(path).map_err(|e| {
        failed(
            format!("cannot read it: {e}"),
            "check the path, and that this user may read the file",
        )
    })?;
    let mut store = rustls::RootCertStore::empty();
    let mut certificates = Vec::new();
    for (index, item) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let number = index + 1;
        let der = item.map_err(|e| {
            failed(
                format!("certificate {number} is not valid PEM: {e}"),
                PEM_HINT,
            )
        })?;
        store.add(der.clone()).map_err(|e| {
            failed(
                format!("certificate {number} is not a usable X.509 certificate: {e}"),
                PEM_HINT,
            )
        })?;
        let certificate = reqwest::Certificate::from_der(&der)
            .map_err(|e| failed(format!("certificate {number}: {e}"), PEM_HINT))?;
        certificates.push(certificate);
    }
    if certificates.is_empty() {
        return Err(failed(
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            PEM_HINT,
        ));
    }
    Ok(certificates)
}

/// What is wrong with the server's certificate, when `error` (a request's error, with its
/// causes) is a failed certificate check rather than any other failure to connect.
pub fn certificate_problem(error: &(dyn StdError + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return describe(tls);
        }
        // An I/O error hides the error it carries from `source()` (and I/O errors nest): look
        // inside it instead.
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    None
}

fn describe(error: &rustls::Error) -> Option<String> {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(problem) = error else {
        return matches!(error, rustls::Error::NoCertificatesPresented)
            .then(|| "the server presented no certificate".to_string());
    };
    Some(match problem {
        C::UnknownIssuer => {
            "it is signed by a certificate authority this machine does not trust".to_string()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "it is not valid for this host name".to_string()
        }
        C::Expired | C::ExpiredContext { .. } => "it has expired".to_string(),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "it is not valid yet (is this machine's clock right?)".to_string()
        }
        C::Revoked => "it has been revoked".to_string(),
        other => format!("{other:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    fn load_text(text: &[u8]) -> Result<usize, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, text).unwrap();
        load(&path, "--ca-cert")
            .map(|certs| certs.len())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_bundle_of_several_certificates_is_read() {
        assert_eq!(load_text(ca_pem().as_bytes()), Ok(1));
        let bundle = format!("# our CAs\n{}\n{}", ca_pem(), ca_pem());
        assert_eq!(load_text(bundle.as_bytes()), Ok(2));
    }

    #[test]
    fn unusable_files_are_explained() {
        let err = load(Path::new("/nonexistent/ca.pem"), "network.ca_cert").unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("/nonexistent/ca.pem (network.ca_cert): cannot read it"),
            "{message}"
        );
        for (text, expected) in [
            (&b""[..], "holds no PEM certificate"),
            (b"\x30\x82\x01\x0a binary DER", "holds no PEM certificate"),
            (
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "holds no PEM certificate",
            ),
            (
                b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
                "certificate 1 is not valid PEM",
            ),
            (
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "certificate 1 is not a usable X.509 certificate",
            ),
        ] {
            let message = load_text(text).unwrap_err();
            assert!(message.contains(expected), "{message}");
            assert!(message.contains("hint: give a PEM file"), "{message}");
        }
    }

    #[test]
    fn certificate_failures_are_told_from_other_failures() {
        // As reqwest reports it: rustls's error in an I/O error in another I/O error.
        let io = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ));
        assert_eq!(
            certificate_problem(&io).as_deref(),
            Some("it is signed by a certificate authority this machine does not trust")
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(certificate_problem(&refused), None);
    }
}
