output "bucket" {
  description = "Name of the artifacts bucket (make deploy uploads and signs there)."
  value       = aws_s3_bucket.this.id
}

output "versioning" {
  description = "The bucket's versioning status (Signer needs Enabled)."
  value       = aws_s3_bucket_versioning.this.versioning_configuration[0].status
}
