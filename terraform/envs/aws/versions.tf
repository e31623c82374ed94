terraform {
  required_version = ">= 1.7.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Remote state in S3 with native locking, partial configuration: nothing account-specific is
  # committed. Create backend.hcl from backend.hcl.example and run
  #   ./tools/tf.sh tf -chdir=terraform/envs/aws init -backend-config=backend.hcl
  backend "s3" {}
}
