# The deployment artifacts bucket: `make deploy` uploads build/lambda.zip here (unsigned/), AWS Signer writes the
# signed copy next to it (signed/), and the functions are created from that signed object. Signer reads its
# source by object version, so the bucket must be versioned; old versions stay for rollbacks (docs/go-live.md).
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  bucket_name = coalesce(var.bucket_name, "novamart-payments-artifacts-${data.aws_caller_identity.current.account_id}-${data.aws_region.current.name}")
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Access logging would need a second bucket; every write comes from make deploy and Signer and is in CloudTrail.
  #checkov:skip=CKV_AWS_144:Packages are rebuilt from git in any region; cross-region replication adds nothing a rebuild does not.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to uploads; make deploy waits for the signing job itself.
  #checkov:skip=CKV_AWS_145:SSE-S3: AWS Signer reads the source and writes the signed object with its own service access, which an SSE-KMS key policy would have to open to it; the packages hold no data, only code that is public in git.
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "old-packages"
    status = "Enabled"
    filter {}

    # A replaced package stays restorable (rollback: docs/go-live.md) for this long.
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyWithoutTls"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}
