//! Full-object checksums as S3 stores them (base64 of the big-endian CRC), computed here and
//! combined from part checksums, so a copy can be confirmed against the source's checksum.

use base64::Engine as _;
use crc_fast::CrcAlgorithm;

/// The algorithms S3 accepts as full-object checksums of a multipart upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
}

impl Algorithm {
    /// S3's name (`CRC32`, `CRC32C`, `CRC64NVME`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
        }
    }

    /// The header that carries a checksum of this algorithm (requests and answers).
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
        }
    }

    pub fn from_name(s: &str) -> Option<Algorithm> {
        match s.to_ascii_uppercase().as_str() {
            "CRC32" => Some(Algorithm::Crc32),
            "CRC32C" => Some(Algorithm::Crc32c),
            "CRC64NVME" => Some(Algorithm::Crc64Nvme),
            _ => None,
        }
    }

    fn crc(self) -> CrcAlgorithm {
        match self {
            Algorithm::Crc32 => CrcAlgorithm::Crc32IsoHdlc,
            Algorithm::Crc32c => CrcAlgorithm::Crc32Iscsi,
            Algorithm::Crc64Nvme => CrcAlgorithm::Crc64Nvme,
        }
    }

    fn width(self) -> usize {
        match self {
            Algorithm::Crc64Nvme => 8,
            _ => 4,
        }
    }

    pub fn sdk(self) -> aws_sdk_s3::types::ChecksumAlgorithm {
        use aws_sdk_s3::types::ChecksumAlgorithm as A;
        match self {
            Algorithm::Crc32 => A::Crc32,
            Algorithm::Crc32c => A::Crc32C,
            Algorithm::Crc64Nvme => A::Crc64Nvme,
        }
    }

    /// The CRC of `data`.
    pub fn checksum(self, data: &[u8]) -> u64 {
        crc_fast::checksum(self.crc(), data)
    }

    /// The CRC of `a` followed by `b`, from their CRCs and `b`'s length.
    pub fn combine(self, a: u64, b: u64, b_len: u64) -> u64 {
        crc_fast::checksum_combine(self.crc(), a, b, b_len)
    }

    /// S3's text form: base64 of the big-endian bytes.
    pub fn encode(self, crc: u64) -> String {
        let bytes = crc.to_be_bytes();
        base64::engine::general_purpose::STANDARD.encode(&bytes[8 - self.width()..])
    }

    pub fn decode(self, text: &str) -> Option<u64> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()?;
        if bytes.len() != self.width() {
            return None;
        }
        Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
}

/// A running CRC over a stream of chunks.
#[derive(Clone, Debug)]
pub struct Running {
    alg: Algorithm,
    crc: u64,
    len: u64,
}

impl Running {
    pub fn new(alg: Algorithm) -> Running {
        Running {
            alg,
            crc: alg.checksum(&[]),
            len: 0,
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        let c = self.alg.checksum(chunk);
        self.crc = self.alg.combine(self.crc, c, chunk.len() as u64);
        self.len += chunk.len() as u64;
    }

    /// Appends a whole part whose CRC and length are known.
    pub fn append(&mut self, crc: u64, len: u64) {
        self.crc = if self.len == 0 {
            crc
        } else {
            self.alg.combine(self.crc, crc, len)
        };
        self.len += len;
    }

    pub fn value(&self) -> u64 {
        self.crc
    }

    pub fn encoded(&self) -> String {
        self.alg.encode(self.crc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_and_round_trip() {
        // The standard check values of "123456789".
        assert_eq!(Algorithm::Crc32.checksum(b"123456789"), 0xcbf43926);
        assert_eq!(Algorithm::Crc32c.checksum(b"123456789"), 0xe3069283);
        assert_eq!(
            Algorithm::Crc64Nvme.checksum(b"123456789"),
            0xae8b14860a799888
        );
        for alg in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            let c = alg.checksum(b"hello");
            assert_eq!(alg.decode(&alg.encode(c)), Some(c));
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(Algorithm::Crc32.encode(0xcbf43926), "y/Q5Jg==");
    }

    #[test]
    fn parts_combine_to_the_whole() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for alg in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            let whole = alg.checksum(&data);
            let mut parts = Running::new(alg);
            for chunk in data.chunks(3000) {
                parts.append(alg.checksum(chunk), chunk.len() as u64);
            }
            assert_eq!(parts.value(), whole);
            let mut streamed = Running::new(alg);
            for chunk in data.chunks(77) {
                streamed.update(chunk);
            }
            assert_eq!(streamed.value(), whole);
        }
    }
}
