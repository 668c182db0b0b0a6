//! Multipart uploads (Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
//! ListMultipartUploads), batch deletes, object tagging and ListObjectVersions.
//!
//! Authorization: every multipart step is `s3:PutObject` on the object (AWS rule 17), except
//! Abort (`s3:AbortMultipartUpload`), ListParts (`s3:ListMultipartUploadParts`) and
//! ListMultipartUploads (`s3:ListBucketMultipartUploads`). UploadPartCopy also needs
//! `s3:GetObject` on the source. The minimum part size (5 MiB on AWS) is an emulator option so
//! tests can use small parts.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::super::acl::{self, ObjectOwnership, Permission};
use super::super::state as st;
use super::{
    acl_request, b64, err, no_such_bucket, object_acl, read_body, ts, verify_checksums, EmuS3,
};

/// AWS's smallest part (all but the last).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest single PUT, part and CopyObject source.
pub const MAX_SINGLE_SIZE: u64 = 5 * 1024 * 1024 * 1024;

fn no_such_upload() -> S3Error {
    err(
        S3ErrorCode::NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
}

fn upload_id() -> String {
    let bytes: [u8; 24] = std::array::from_fn(|_| rand::random::<u8>());
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The algorithm an upload's checksums use, from `x-amz-checksum-algorithm`.
fn algorithm(a: Option<&ChecksumAlgorithm>) -> Option<String> {
    a.map(|a| a.as_str().to_ascii_uppercase())
}

fn part_checksum(alg: &str, body: &[u8]) -> Option<String> {
    use s3s::crypto::Checksum;
    Some(match alg {
        "CRC32" => b64(&s3s::crypto::Crc32::checksum(body)),
        "CRC32C" => b64(&s3s::crypto::Crc32c::checksum(body)),
        "CRC64NVME" => b64(&s3s::crypto::Crc64Nvme::checksum(body)),
        "SHA1" => b64(s3s::crypto::Sha1::checksum(body).as_ref()),
        "SHA256" => b64(s3s::crypto::Sha256::checksum(body).as_ref()),
        _ => return None,
    })
}

fn set_checksum(c: &mut st::Checksums, alg: &str, v: Option<String>) {
    match alg {
        "CRC32" => c.crc32 = v,
        "CRC32C" => c.crc32c = v,
        "CRC64NVME" => c.crc64nvme = v,
        "SHA1" => c.sha1 = v,
        "SHA256" => c.sha256 = v,
        _ => {}
    }
}

fn get_checksum<'a>(c: &'a st::Checksums, alg: &str) -> Option<&'a String> {
    match alg {
        "CRC32" => c.crc32.as_ref(),
        "CRC32C" => c.crc32c.as_ref(),
        "CRC64NVME" => c.crc64nvme.as_ref(),
        "SHA1" => c.sha1.as_ref(),
        "SHA256" => c.sha256.as_ref(),
        _ => None,
    }
}

impl EmuS3 {
    pub(super) async fn mp_create(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let acl_req = acl_request(&req.headers)?;
        let (bucket_owner, ownership) = {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            if b.ownership() == ObjectOwnership::BucketOwnerEnforced {
                super::check_enforced(&acl_req, b.owner)?;
            }
            super::authz::refuse_public_acl(b.pab(), acl::is_public_request(&acl_req))?;
            self.check_bucket(
                &mut call,
                b,
                "s3:PutObject",
                Some(&input.key),
                Permission::Write,
            )?;
            (b.owner, b.ownership())
        };
        let writer = call.caller.account().unwrap_or(bucket_owner);
        let owner = super::new_object_owner(ownership, &acl_req, writer, bucket_owner);
        let alg = algorithm(input.checksum_algorithm.as_ref());
        let full_object = input
            .checksum_type
            .as_ref()
            .is_some_and(|t| t.as_str() == "FULL_OBJECT");
        let mut template = st::Object::new(Bytes::new(), owner, SystemTime::now());
        template.acl = object_acl(&acl_req, owner, bucket_owner);
        template.checksums = st::StoredChecksums::from_checksums(&st::Checksums {
            kind: alg.as_ref().map(|_| {
                if full_object {
                    "FULL_OBJECT"
                } else {
                    "COMPOSITE"
                }
                .to_owned()
            }),
            ..st::Checksums::default()
        });
        template.content_type = input.content_type.as_deref().map(st::ContentType::new);
        template.set_extra(st::ObjectExtra {
            content_encoding: crate::emu::gateway::stored_content_encoding(
                input.content_encoding.as_deref(),
            ),
            content_disposition: input.content_disposition.clone(),
            content_language: input.content_language.clone(),
            cache_control: input.cache_control.clone(),
            expires: None,
            metadata: input
                .metadata
                .clone()
                .map(|m| m.into_iter().collect())
                .unwrap_or_default(),
            tags: input
                .tagging
                .as_deref()
                .map(super::actions::parse_tagging)
                .unwrap_or_default(),
            storage_class: input.storage_class.as_ref().map(|s| s.as_str().to_owned()),
            sse: input
                .server_side_encryption
                .as_ref()
                .map(|s| s.as_str().to_owned()),
            sse_kms_key_id: input.ssekms_key_id.clone(),
            parts: None,
        });
        let id = upload_id();
        let upload = st::Upload {
            id: id.clone(),
            key: input.key.clone(),
            initiator: writer,
            initiator_arn: call.caller.principal.arn.clone(),
            owner,
            created: SystemTime::now(),
            template,
            parts: Default::default(),
            checksum_algorithm: alg.clone(),
            acl_keys: [
                "x-amz-acl",
                "x-amz-grant-read",
                "x-amz-grant-read-acp",
                "x-amz-grant-write-acp",
                "x-amz-grant-full-control",
            ]
            .iter()
            .filter_map(|h| {
                req.headers
                    .get(*h)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| (format!("s3:{h}"), v.to_owned()))
            })
            .collect(),
        };
        let mut state = self.emu.write();
        let b = state
            .buckets
            .get_mut(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        b.uploads.insert(id.clone(), upload);
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            upload_id: Some(id),
            checksum_algorithm: input.checksum_algorithm.clone(),
            checksum_type: alg.map(|_| {
                ChecksumType::from(
                    if full_object {
                        "FULL_OBJECT"
                    } else {
                        "COMPOSITE"
                    }
                    .to_owned(),
                )
            }),
            server_side_encryption: input.server_side_encryption.clone(),
            ssekms_key_id: input.ssekms_key_id.clone(),
            ..CreateMultipartUploadOutput::default()
        }))
    }

    /// Authorizes a step of an existing upload and returns its checksum algorithm.
    fn mp_check(
        &self,
        call: &mut super::Call,
        bucket: &str,
        key: &str,
        upload: &str,
        action: &str,
    ) -> S3Result<Option<String>> {
        let state = self.emu.read();
        let b = state
            .buckets
            .get(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?;
        let u = b
            .uploads
            .get(upload)
            .filter(|u| u.key == key)
            .ok_or_else(no_such_upload)?;
        for (k, v) in &u.acl_keys {
            call.ctx.set(k, v.as_str());
        }
        self.check_bucket(call, b, action, Some(key), Permission::Write)?;
        Ok(u.checksum_algorithm.clone())
    }

    fn store_part(&self, bucket: &str, upload: &str, number: i32, part: st::Part) -> S3Result<()> {
        let mut state = self.emu.write();
        let b = state
            .buckets
            .get_mut(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?;
        let u = b.uploads.get_mut(upload).ok_or_else(no_such_upload)?;
        u.parts.insert(number, part);
        Ok(())
    }

    pub(super) async fn mp_upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let mut call = self.call(&req);
        let S3Request {
            mut input,
            headers,
            trailing_headers,
            ..
        } = req;
        let checked = if let Err(e) = self.within_single_size(input.content_length) {
            Err(e)
        } else if (1..=10_000).contains(&input.part_number) {
            self.mp_check(
                &mut call,
                &input.bucket,
                &input.key,
                &input.upload_id,
                "s3:PutObject",
            )
        } else {
            Err(err(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            ))
        };
        let alg = match checked {
            Ok(alg) => alg,
            Err(e) => {
                let body = input.body.take();
                return Err(super::discard_body(body, input.content_length, &headers, e).await);
            }
        };
        // Parts are concatenated on Complete: no slab, so their memory goes with the upload.
        let body = read_body(input.body, input.content_length, None).await?;
        let trailer = trailing_headers.as_ref().and_then(|t| t.take());
        let mut checksums = verify_checksums(&body, &headers, trailer.as_ref())?;
        if let Some(a) = &alg {
            if get_checksum(&checksums, a).is_none() {
                set_checksum(&mut checksums, a, part_checksum(a, &body));
            }
        }
        let etag = st::Etag::of(&body);
        let part = st::Part {
            body,
            etag,
            last_modified: SystemTime::now(),
            checksums: checksums.clone(),
        };
        self.store_part(&input.bucket, &input.upload_id, input.part_number, part)?;
        let only =
            |name: &str| alg.as_deref() == Some(name) || (alg.is_none() && name != "CRC64NVME");
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(etag.hex())),
            checksum_crc32: checksums.crc32.filter(|_| only("CRC32")),
            checksum_crc32c: checksums.crc32c.filter(|_| only("CRC32C")),
            checksum_crc64nvme: checksums
                .crc64nvme
                .filter(|_| alg.as_deref() == Some("CRC64NVME")),
            checksum_sha1: checksums.sha1.filter(|_| only("SHA1")),
            checksum_sha256: checksums.sha256.filter(|_| only("SHA256")),
            ..UploadPartOutput::default()
        }))
    }

    pub(super) async fn mp_upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        if !(1..=10_000).contains(&input.part_number) {
            return Err(err(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            ));
        }
        let (src_bucket, src_key) = match &input.copy_source {
            CopySource::Bucket { bucket, key, .. } => (bucket.to_string(), key.to_string()),
            _ => {
                return Err(err(
                    S3ErrorCode::NotImplemented,
                    "access point copy sources are not supported",
                ))
            }
        };
        let src = self.authorized_object(
            &mut call,
            &src_bucket,
            &src_key,
            "s3:GetObject",
            Permission::Read,
        )?;
        let mut call = self.call(&req);
        let alg = self.mp_check(
            &mut call,
            &input.bucket,
            &input.key,
            &input.upload_id,
            "s3:PutObject",
        )?;
        let body = match &input.copy_source_range {
            Some(r) => {
                let spec = r.strip_prefix("bytes=").unwrap_or(r);
                let (a, b) = spec.split_once('-').ok_or_else(|| {
                    err(
                        S3ErrorCode::InvalidArgument,
                        "The x-amz-copy-source-range value must be of the form bytes=first-last",
                    )
                })?;
                let (a, b): (u64, u64) = (
                    a.parse().map_err(|_| {
                        err(
                            S3ErrorCode::InvalidArgument,
                            "invalid x-amz-copy-source-range",
                        )
                    })?,
                    b.parse().map_err(|_| {
                        err(
                            S3ErrorCode::InvalidArgument,
                            "invalid x-amz-copy-source-range",
                        )
                    })?,
                );
                let len = src.body.len() as u64;
                if a > b || b >= len {
                    return Err(err(
                        S3ErrorCode::InvalidRange,
                        "The requested range is not satisfiable",
                    ));
                }
                src.body.slice(a as usize..=b as usize)
            }
            None => src.body.clone(),
        };
        let mut checksums = st::Checksums::default();
        if let Some(a) = &alg {
            set_checksum(&mut checksums, a, part_checksum(a, &body));
        }
        let etag = st::Etag::of(&body);
        let now = SystemTime::now();
        self.store_part(
            &input.bucket,
            &input.upload_id,
            input.part_number,
            st::Part {
                body,
                etag,
                last_modified: now,
                checksums: checksums.clone(),
            },
        )?;
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(ETag::Strong(etag.hex())),
                last_modified: Some(ts(now)),
                checksum_crc32: checksums.crc32,
                checksum_crc32c: checksums.crc32c,
                checksum_crc64nvme: checksums.crc64nvme,
                checksum_sha1: checksums.sha1,
                checksum_sha256: checksums.sha256,
            }),
            ..UploadPartCopyOutput::default()
        }))
    }

    pub(super) async fn mp_complete(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        self.mp_check(
            &mut call,
            &input.bucket,
            &input.key,
            &input.upload_id,
            "s3:PutObject",
        )?;
        let min_part = self.emu.options.min_part_size.unwrap_or(MIN_PART_SIZE);
        let listed = input
            .multipart_upload
            .as_ref()
            .and_then(|m| m.parts.clone())
            .unwrap_or_default();
        if listed.is_empty() {
            return Err(err(
                S3ErrorCode::MalformedXML,
                "You must specify at least one part",
            ));
        }
        let upload = {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            b.uploads
                .get(&input.upload_id)
                .cloned()
                .ok_or_else(no_such_upload)?
        };
        let invalid_part = || {
            err(S3ErrorCode::InvalidPart, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
        };
        let mut prev = 0;
        let mut chosen: Vec<&st::Part> = Vec::with_capacity(listed.len());
        for p in &listed {
            let n = p.part_number.ok_or_else(invalid_part)?;
            if n <= prev {
                return Err(err(S3ErrorCode::InvalidPartOrder, "The list of parts was not in ascending order. The parts list must be specified in order by part number."));
            }
            prev = n;
            let part = upload.parts.get(&n).ok_or_else(invalid_part)?;
            if let Some(e) = &p.e_tag {
                if !part.etag.matches(e.value()) {
                    return Err(invalid_part());
                }
            }
            chosen.push(part);
        }
        for part in &chosen[..chosen.len() - 1] {
            if (part.body.len() as u64) < min_part {
                return Err(err(
                    S3ErrorCode::EntityTooSmall,
                    "Your proposed upload is smaller than the minimum allowed object size.",
                ));
            }
        }
        let total: usize = chosen.iter().map(|p| p.body.len()).sum();
        let mut buf = BytesMut::with_capacity(total);
        let mut md5s = Vec::with_capacity(chosen.len() * 16);
        for part in &chosen {
            buf.extend_from_slice(&part.body);
            md5s.extend_from_slice(&part.etag.md5);
        }
        let body = buf.freeze();
        let etag = st::Etag {
            md5: st::Etag::of(&md5s).md5,
            // At most 10,000 parts.
            parts: u16::try_from(chosen.len()).unwrap_or(u16::MAX),
        };
        let mut checksums = st::Checksums::default();
        let template_kind = upload.template.checksums.expand().kind;
        match (&upload.checksum_algorithm, template_kind.as_deref()) {
            (Some(a), Some("COMPOSITE")) => {
                use base64::Engine;
                let mut cat = Vec::new();
                for p in &chosen {
                    let v = get_checksum(&p.checksums, a)
                        .cloned()
                        .or_else(|| part_checksum(a, &p.body))
                        .unwrap_or_default();
                    cat.extend(
                        base64::engine::general_purpose::STANDARD
                            .decode(v)
                            .unwrap_or_default(),
                    );
                }
                let combined = part_checksum(a, &cat).map(|c| format!("{c}-{}", chosen.len()));
                set_checksum(&mut checksums, a, combined);
                checksums.kind = Some("COMPOSITE".to_owned());
            }
            (Some(a), _) => {
                set_checksum(&mut checksums, a, part_checksum(a, &body));
                checksums.kind = Some("FULL_OBJECT".to_owned());
            }
            (None, _) => checksums = super::full_checksums(&body),
        }
        // A full-object checksum sent with Complete must match.
        for (alg, sent) in [
            ("CRC32", &input.checksum_crc32),
            ("CRC32C", &input.checksum_crc32c),
            ("CRC64NVME", &input.checksum_crc64nvme),
            ("SHA1", &input.checksum_sha1),
            ("SHA256", &input.checksum_sha256),
        ] {
            if let (Some(sent), Some(stored)) = (sent, get_checksum(&checksums, alg)) {
                if sent != stored {
                    return Err(err(S3ErrorCode::BadDigest, format!("The {alg} you specified for the object did not match the calculated checksum.")));
                }
            }
        }
        let mut obj = upload.template.clone();
        obj.body = body;
        obj.etag = etag;
        obj.last_modified = SystemTime::now();
        obj.checksums = st::StoredChecksums::from_checksums(&checksums);
        let sizes = chosen.iter().map(|p| p.body.len() as u64).collect();
        obj.edit_extra(|e| e.parts = Some(sizes));
        {
            let mut state = self.emu.write();
            let b = state
                .buckets
                .get_mut(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            if b.uploads.remove(&input.upload_id).is_none() {
                return Err(no_such_upload());
            }
            b.objects.insert(input.key.clone(), Arc::new(obj));
        }
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            e_tag: Some(ETag::Strong(etag.hex())),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_crc64nvme: checksums.crc64nvme,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            checksum_type: checksums.kind.map(ChecksumType::from),
            ..CompleteMultipartUploadOutput::default()
        }))
    }

    pub(super) async fn mp_abort(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        self.mp_check(
            &mut call,
            &input.bucket,
            &input.key,
            &input.upload_id,
            "s3:AbortMultipartUpload",
        )?;
        let mut state = self.emu.write();
        let b = state
            .buckets
            .get_mut(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        b.uploads
            .remove(&input.upload_id)
            .ok_or_else(no_such_upload)?;
        Ok(S3Response::with_status(
            AbortMultipartUploadOutput::default(),
            http::StatusCode::NO_CONTENT,
        ))
    }

    pub(super) async fn mp_list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        self.mp_check(
            &mut call,
            &input.bucket,
            &input.key,
            &input.upload_id,
            "s3:ListMultipartUploadParts",
        )?;
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        let u = b.uploads.get(&input.upload_id).ok_or_else(no_such_upload)?;
        let marker: i32 = input.part_number_marker.unwrap_or(0);
        let max = input.max_parts.unwrap_or(1000).clamp(1, 1000) as usize;
        let mut parts: Vec<Part> = Vec::new();
        let mut truncated = false;
        for (n, p) in u.parts.range(marker + 1..) {
            if parts.len() == max {
                truncated = true;
                break;
            }
            parts.push(Part {
                part_number: Some(*n),
                e_tag: Some(ETag::Strong(p.etag.hex())),
                size: Some(p.body.len() as i64),
                last_modified: Some(ts(p.last_modified)),
                checksum_crc32: p.checksums.crc32.clone(),
                checksum_crc32c: p.checksums.crc32c.clone(),
                checksum_crc64nvme: p.checksums.crc64nvme.clone(),
                checksum_sha1: p.checksums.sha1.clone(),
                checksum_sha256: p.checksums.sha256.clone(),
            });
        }
        let next = parts.last().and_then(|p| p.part_number);
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            upload_id: Some(u.id.clone()),
            is_truncated: Some(truncated),
            next_part_number_marker: truncated.then_some(next).flatten(),
            max_parts: Some(max as i32),
            parts: Some(parts),
            initiator: Some(Initiator {
                id: Some(u.initiator_arn.clone()),
                display_name: None,
            }),
            owner: Some(super::owner_dto(u.owner)),
            ..ListPartsOutput::default()
        }))
    }

    pub(super) async fn mp_list_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        self.check_bucket(
            &mut call,
            b,
            "s3:ListBucketMultipartUploads",
            None,
            Permission::Read,
        )?;
        let mut uploads: Vec<&st::Upload> = b
            .uploads
            .values()
            .filter(|u| u.key.starts_with(&prefix))
            .collect();
        uploads.sort_by(|x, y| x.key.cmp(&y.key).then(x.created.cmp(&y.created)));
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket.clone()),
            prefix: input.prefix.clone(),
            is_truncated: Some(false),
            max_uploads: Some(1000),
            uploads: Some(
                uploads
                    .into_iter()
                    .map(|u| MultipartUpload {
                        key: Some(u.key.clone()),
                        upload_id: Some(u.id.clone()),
                        initiated: Some(ts(u.created)),
                        initiator: Some(Initiator {
                            id: Some(u.initiator_arn.clone()),
                            display_name: None,
                        }),
                        owner: Some(super::owner_dto(u.owner)),
                        checksum_algorithm: u
                            .checksum_algorithm
                            .clone()
                            .map(ChecksumAlgorithm::from),
                        ..MultipartUpload::default()
                    })
                    .collect(),
            ),
            ..ListMultipartUploadsOutput::default()
        }))
    }

    pub(super) async fn delete_many(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        if input.delete.objects.len() > 1000 {
            return Err(err(S3ErrorCode::MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema (at most 1000 keys)"));
        }
        let mut allowed = Vec::new();
        let mut errors = Vec::new();
        {
            let state = self.emu.read();
            let b = state
                .buckets
                .get(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            for o in &input.delete.objects {
                match self.check_bucket(
                    &mut call,
                    b,
                    "s3:DeleteObject",
                    Some(&o.key),
                    Permission::Write,
                ) {
                    Ok(()) => allowed.push(o.key.clone()),
                    Err(e) => errors.push(Error {
                        key: Some(o.key.clone()),
                        code: Some(e.code().as_str().to_owned()),
                        message: e.message().map(str::to_owned),
                        version_id: None,
                    }),
                }
            }
        }
        {
            let mut state = self.emu.write();
            if let Some(b) = state.buckets.get_mut(&input.bucket) {
                for k in &allowed {
                    b.objects.remove(k);
                }
            }
        }
        let quiet = input.delete.quiet.unwrap_or(false);
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(if quiet {
                Vec::new()
            } else {
                allowed
                    .into_iter()
                    .map(|k| DeletedObject {
                        key: Some(k),
                        ..DeletedObject::default()
                    })
                    .collect()
            }),
            errors: Some(errors),
            ..DeleteObjectsOutput::default()
        }))
    }

    pub(super) async fn tagging_put(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let tags: Vec<(String, String)> = input
            .tagging
            .tag_set
            .iter()
            .map(|t| {
                (
                    t.key.clone().unwrap_or_default(),
                    t.value.clone().unwrap_or_default(),
                )
            })
            .collect();
        if tags.len() > 10 {
            return Err(err(
                S3ErrorCode::InvalidTag,
                "Object tags cannot be greater than 10",
            ));
        }
        self.authorized_object(
            &mut call,
            &input.bucket,
            &input.key,
            "s3:PutObjectTagging",
            Permission::Write,
        )?;
        if let Some(o) = self
            .emu
            .write()
            .buckets
            .get_mut(&input.bucket)
            .and_then(|b| b.objects.get_mut(&input.key))
        {
            Arc::make_mut(o).edit_extra(|e| e.tags = tags);
        }
        Ok(S3Response::new(PutObjectTaggingOutput::default()))
    }

    pub(super) async fn tagging_get(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let obj = self.authorized_object(
            &mut call,
            &input.bucket,
            &input.key,
            "s3:GetObjectTagging",
            Permission::Read,
        )?;
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set: obj
                .tags()
                .iter()
                .map(|(k, v)| Tag {
                    key: Some(k.clone()),
                    value: Some(v.clone()),
                })
                .collect(),
            version_id: None,
        }))
    }

    pub(super) async fn tagging_delete(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        self.authorized_object(
            &mut call,
            &input.bucket,
            &input.key,
            "s3:DeleteObjectTagging",
            Permission::Write,
        )?;
        if let Some(o) = self
            .emu
            .write()
            .buckets
            .get_mut(&input.bucket)
            .and_then(|b| b.objects.get_mut(&input.key))
        {
            Arc::make_mut(o).edit_extra(|e| e.tags.clear());
        }
        Ok(S3Response::with_status(
            DeleteObjectTaggingOutput::default(),
            http::StatusCode::NO_CONTENT,
        ))
    }

    pub(super) async fn versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let mut call = self.call(&req);
        let input = &req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        call.ctx.set("s3:prefix", prefix.as_str());
        let max_keys = input.max_keys.unwrap_or(1000).clamp(0, 1000);
        let state = self.emu.read();
        let b = state
            .buckets
            .get(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        self.check_bucket(
            &mut call,
            b,
            "s3:ListBucketVersions",
            None,
            Permission::Read,
        )?;
        // Versioning is not emulated: every object is its only, latest, `null` version.
        let page = super::list_page(
            b,
            &prefix,
            input.delimiter.as_deref(),
            input.key_marker.as_deref(),
            max_keys as usize,
        );
        Ok(S3Response::new(ListObjectVersionsOutput {
            name: Some(b.name.clone()),
            prefix: input.prefix.clone(),
            delimiter: input.delimiter.clone(),
            max_keys: Some(max_keys),
            is_truncated: Some(page.truncated),
            next_key_marker: page.truncated.then(|| page.last.clone()).flatten(),
            key_marker: input.key_marker.clone(),
            versions: Some(
                page.contents
                    .iter()
                    .map(|(k, o)| ObjectVersion {
                        key: Some(k.clone()),
                        version_id: Some("null".to_owned()),
                        is_latest: Some(true),
                        e_tag: Some(ETag::Strong(o.etag.hex())),
                        last_modified: Some(ts(o.last_modified)),
                        size: Some(o.body.len() as i64),
                        owner: Some(super::owner_dto(o.owner)),
                        storage_class: Some(ObjectVersionStorageClass::from("STANDARD".to_owned())),
                        ..ObjectVersion::default()
                    })
                    .collect(),
            ),
            common_prefixes: Some(
                page.prefixes
                    .iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(p.clone()),
                    })
                    .collect(),
            ),
            ..ListObjectVersionsOutput::default()
        }))
    }
}
