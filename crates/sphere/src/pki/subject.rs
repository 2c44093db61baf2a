//! Client certificate subjects with several groups. rcgen keeps one value per
//! attribute type, but Kubernetes reads every O of the subject as a group, so the
//! subject rcgen wrote is replaced with one holding each O, and the certificate is
//! signed again with the CA key. Everything else (serial, validity, key,
//! extensions) stays as rcgen produced it.

use rcgen::{KeyPair, SigningKey};

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const UTF8_STRING: u8 = 0x0c;
const BIT_STRING: u8 = 0x03;
/// id-at-organizationName, 2.5.4.10, DER content bytes.
const OID_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
/// id-at-commonName, 2.5.4.3, DER content bytes.
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

/// Why the subject could not be replaced.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The certificate rcgen produced could not be taken apart; a bug, not bad input.
    #[error("malformed certificate DER: {0}")]
    Malformed(&'static str),
    /// The CA key could not sign.
    #[error("signing failed: {0}")]
    Sign(#[from] rcgen::Error),
}

use Error::Malformed as MalformedDer;

/// DER of a subject Name: one RDN per group (O), then the user (CN), the order
/// kubeadm writes.
pub fn encode_subject(user: &str, groups: &[&str]) -> Vec<u8> {
    let attribute = |oid: &[u8], value: &str| {
        tlv(
            SET,
            &tlv(
                SEQUENCE,
                &[tlv(OID, oid), tlv(UTF8_STRING, value.as_bytes())].concat(),
            ),
        )
    };
    let mut rdns: Vec<u8> = groups
        .iter()
        .flat_map(|g| attribute(OID_ORGANIZATION, g))
        .collect();
    rdns.extend(attribute(OID_COMMON_NAME, user));
    tlv(SEQUENCE, &rdns)
}

/// Replaces the subject of `cert` (DER) with `subject` (DER Name) and signs the new
/// TBSCertificate with `ca_key`.
pub fn replace_subject(cert: &[u8], subject: &[u8], ca_key: &KeyPair) -> Result<Vec<u8>, Error> {
    let split = split_certificate(cert)?;
    let tbs_content = [split.before_subject, subject, split.after_subject].concat();
    let tbs = tlv(SEQUENCE, &tbs_content);
    let signature = ca_key.sign(&tbs)?;
    let mut bits = Vec::with_capacity(signature.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(&signature);
    Ok(tlv(
        SEQUENCE,
        &[
            tbs,
            split.signature_algorithm.to_vec(),
            tlv(BIT_STRING, &bits),
        ]
        .concat(),
    ))
}

struct Split<'a> {
    before_subject: &'a [u8],
    after_subject: &'a [u8],
    signature_algorithm: &'a [u8],
}

fn split_certificate(cert: &[u8]) -> Result<Split<'_>, Error> {
    let certificate = content(cert, SEQUENCE)?;
    let (tbs, rest) = next(certificate)?;
    let (signature_algorithm, _) = next(rest)?;
    let mut fields = content(tbs, SEQUENCE)?;
    let start = fields;
    // version [0], serialNumber, signature, issuer, validity: the subject is sixth.
    for _ in 0..5 {
        fields = next(fields)?.1;
    }
    let (subject, after_subject) = next(fields)?;
    if subject.first() != Some(&SEQUENCE) {
        return Err(MalformedDer("subject is not a SEQUENCE"));
    }
    let before_subject = &start[..start.len() - fields.len()];
    Ok(Split {
        before_subject,
        after_subject,
        signature_algorithm,
    })
}

/// Splits the first TLV off `input`: (the whole TLV, the rest).
fn next(input: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let (header, len) = header(input)?;
    let end = header
        .checked_add(len)
        .filter(|&end| end <= input.len())
        .ok_or(MalformedDer("length past the end"))?;
    Ok(input.split_at(end))
}

/// The content of the single TLV `input`, which must have tag `tag`.
fn content(input: &[u8], tag: u8) -> Result<&[u8], Error> {
    if input.first() != Some(&tag) {
        return Err(MalformedDer("unexpected tag"));
    }
    let (header, len) = header(input)?;
    input
        .get(header..header + len)
        .ok_or(MalformedDer("length past the end"))
}

/// (header length, content length) of the TLV at the start of `input`.
fn header(input: &[u8]) -> Result<(usize, usize), Error> {
    let first = *input.get(1).ok_or(MalformedDer("truncated header"))?;
    if first < 0x80 {
        return Ok((2, usize::from(first)));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 || count > 4 {
        return Err(MalformedDer("unsupported length form"));
    }
    let bytes = input
        .get(2..2 + count)
        .ok_or(MalformedDer("truncated length"))?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Ok((2 + count, len))
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let encoded = tlv(SEQUENCE, &vec![7u8; len]);
            assert_eq!(header(&encoded).unwrap().1, len);
            let (whole, rest) = next(&encoded).unwrap();
            assert_eq!(whole.len(), encoded.len());
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let encoded = tlv(SEQUENCE, &[1, 2, 3]);
        for cut in 0..encoded.len() {
            assert!(next(&encoded[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn subject_lists_every_group_then_the_user() {
        let der = encode_subject("alice", &["dev", "ops"]);
        use x509_parser::prelude::FromDer;
        let (_, name) = x509_parser::x509::X509Name::from_der(&der).unwrap();
        assert_eq!(name.to_string(), "O=dev, O=ops, CN=alice");
    }
}
