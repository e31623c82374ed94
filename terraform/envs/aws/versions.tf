terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # 1.10: the S3 backend's native locking (use_lockfile in backend.hcl.example) needs it.
  # Remote state in S3 with native locking, partial configuration: nothing account-specific is
  # committed. Create backend.hcl from backend.hcl.example and run
  #   ./tools/tf.sh tf -chdir=terraform/envs/aws init -backend-config=backend.hcl
  backend "s3" {}
}
