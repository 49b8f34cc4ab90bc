# Tool and provider requirements, and the remote state backend.
#
# State is never committed. The backend below is a *partial* configuration: the
# bucket, key, region and lock settings live in an uncommitted `backend.hcl`
# (see backend.hcl.example and README.md) and are passed at init time:
#
#   tofu init -backend-config=backend.hcl      (or: terraform init -backend-config=backend.hcl)

terraform {
  # 1.10 is the first release (Terraform and OpenTofu) with S3 native state locking (use_lockfile).
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80.0, < 7.0.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.6.0, < 4.0.0"
    }
  }

  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(var.tags, {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}
