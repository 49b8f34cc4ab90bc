# Inputs. Only the ones without a default must be set (see terraform.tfvars.example).

# ---------------------------------------------------------------------------
# Naming and placement
# ---------------------------------------------------------------------------

variable "project" {
  description = "Short project name, used as the prefix of every resource name."
  type        = string
  default     = "kiosk-pipeline"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.project))
    error_message = "project must be 3-24 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Deployment environment name (for example prod or staging); part of every resource name."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.environment))
    error_message = "environment must be 2-12 lower-case letters or digits, starting with a letter."
  }
}

variable "aws_region" {
  description = "AWS region to deploy into (for example eu-west-2)."
  type        = string
  default     = "eu-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like an AWS region name, for example eu-west-2."
  }
}

variable "tags" {
  description = "Extra tags added to every resource (Project, Environment and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------
# Network (an existing VPC; see network.tf)
# ---------------------------------------------------------------------------

variable "vpc_id" {
  description = "ID of the existing VPC that holds the private subnets."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC id such as vpc-0123456789abcdef0."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (no route from the internet; outbound through a NAT gateway or VPC endpoints) in at least two availability zones, used by RDS and the ECS tasks."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "private_subnet_ids must list at least two subnet ids (subnet-...), in different availability zones."
  }
}

variable "temporal_egress_cidrs" {
  description = "CIDR blocks the tasks may reach on the Temporal frontend port. Temporal Cloud is reached over the internet (0.0.0.0/0 through the NAT gateway); narrow this for a self-hosted cluster inside the VPC."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.temporal_egress_cidrs) > 0 && alltrue([for c in var.temporal_egress_cidrs : can(cidrhost(c, 0))])
    error_message = "temporal_egress_cidrs must be a non-empty list of valid CIDR blocks."
  }
}

variable "kafka_egress_cidrs" {
  description = "CIDR blocks the bridge may reach on the Kafka broker ports. Confluent Cloud is reached over the internet; narrow this to the MSK subnets for Amazon MSK."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.kafka_egress_cidrs) > 0 && alltrue([for c in var.kafka_egress_cidrs : can(cidrhost(c, 0))])
    error_message = "kafka_egress_cidrs must be a non-empty list of valid CIDR blocks."
  }
}

# ---------------------------------------------------------------------------
# S3 (batch source)
# ---------------------------------------------------------------------------

variable "bucket_name" {
  description = "Name of the S3 bucket that receives the kiosk CSV and exhibition JSON files. Null means <project>-<environment>-data-<account id>."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)."
  }
}

variable "s3_prefix" {
  description = "Key prefix under which the pipeline reads objects (empty for the whole bucket). The task role can read only keys under it."
  type        = string
  default     = ""

  validation {
    condition     = !startswith(var.s3_prefix, "/") && !strcontains(var.s3_prefix, "*")
    error_message = "s3_prefix must not start with a slash or contain a wildcard."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted object versions in the data bucket are removed."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650
    error_message = "noncurrent_version_expiration_days must be between 1 and 3650."
  }
}

# ---------------------------------------------------------------------------
# RDS PostgreSQL
# ---------------------------------------------------------------------------

variable "db_engine_version" {
  description = "PostgreSQL engine version: a major version (\"16\", \"17\") lets RDS pick and upgrade the minor version."
  type        = string
  default     = "17"

  validation {
    condition     = can(regex("^1[4-9](\\.[0-9]+)?$", var.db_engine_version))
    error_message = "db_engine_version must be a PostgreSQL version 14 or later, such as 17 or 16.6."
  }
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must be an RDS instance class such as db.t4g.medium."
  }
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the database in GiB (gp3)."
  type        = number
  default     = 50

  validation {
    condition     = var.db_allocated_storage_gb >= 20 && var.db_allocated_storage_gb <= 65536
    error_message = "db_allocated_storage_gb must be between 20 and 65536."
  }
}

variable "db_max_allocated_storage_gb" {
  description = "Upper limit for storage autoscaling in GiB (must be at least db_allocated_storage_gb)."
  type        = number
  default     = 500

  validation {
    condition     = var.db_max_allocated_storage_gb >= 20 && var.db_max_allocated_storage_gb <= 65536
    error_message = "db_max_allocated_storage_gb must be between 20 and 65536."
  }
}

variable "db_name" {
  description = "Name of the application database."
  type        = string
  default     = "kiosk"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must start with a letter and contain only lower-case letters, digits and underscores."
  }
}

variable "db_username" {
  description = "Master user name of the database (the password is generated and stored only in Secrets Manager and the encrypted state)."
  type        = string
  default     = "kiosk_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_username)) && !contains(["admin", "postgres", "rdsadmin"], var.db_username)
    error_message = "db_username must start with a letter, use lower-case letters, digits and underscores, and not be a reserved name."
  }
}

variable "db_multi_az" {
  description = "Run RDS with a synchronous standby in a second availability zone (recommended for production; set false to halve the cost of a test environment)."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35 (0 would disable automated backups)."
  }
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database (set false and apply before a deliberate destroy)."
  type        = bool
  default     = true
}

variable "db_performance_insights_retention_days" {
  description = "Retention of Performance Insights data: 7 (free tier) or a multiple of 31 up to 731."
  type        = number
  default     = 7

  validation {
    condition     = var.db_performance_insights_retention_days == 7 || var.db_performance_insights_retention_days == 731 || (var.db_performance_insights_retention_days % 31 == 0 && var.db_performance_insights_retention_days <= 713)
    error_message = "db_performance_insights_retention_days must be 7, a multiple of 31 up to 713, or 731."
  }
}

# ---------------------------------------------------------------------------
# Container image and ECS services
# ---------------------------------------------------------------------------

variable "image_tag" {
  description = "Tag of the application image in the ECR repository this configuration creates (tags are immutable: use a release or commit id, never latest)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid Docker tag and not \"latest\"."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image and the Fargate tasks: X86_64 or ARM64 (Graviton)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "worker_desired_count" {
  description = "Number of Temporal worker tasks. Scale out for more batch throughput (see README)."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_desired_count >= 0 && var.worker_desired_count <= 100 && floor(var.worker_desired_count) == var.worker_desired_count
    error_message = "worker_desired_count must be a whole number between 0 and 100."
  }
}

variable "worker_previous_image_tag" {
  description = "During a deploy: the image tag of the release being replaced. Its workers keep running, as the service worker-previous, for the batch and reject replay runs pinned to that version; set it back to \"\" once the version is drained (terraform/README.md, Later deployments)."
  type        = string
  default     = ""

  validation {
    condition     = var.worker_previous_image_tag == "" || (can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.worker_previous_image_tag)) && var.worker_previous_image_tag != "latest" && var.worker_previous_image_tag != var.image_tag)
    error_message = "worker_previous_image_tag must be empty or a Docker tag other than latest and image_tag."
  }
}

variable "worker_previous_desired_count" {
  description = "Worker tasks of the previous version while it drains (worker_previous_image_tag set)."
  type        = number
  default     = 1

  validation {
    condition     = var.worker_previous_desired_count >= 1 && var.worker_previous_desired_count <= 100 && floor(var.worker_previous_desired_count) == var.worker_previous_desired_count
    error_message = "worker_previous_desired_count must be a whole number between 1 and 100."
  }
}

variable "bridge_desired_count" {
  description = "Number of Kafka bridge tasks (one consumer group; more tasks than topic partitions leaves the extra ones idle)."
  type        = number
  default     = 1

  validation {
    condition     = var.bridge_desired_count >= 0 && var.bridge_desired_count <= 100 && floor(var.bridge_desired_count) == var.bridge_desired_count
    error_message = "bridge_desired_count must be a whole number between 0 and 100."
  }
}

variable "worker_cpu" {
  description = "CPU units of one worker task (1024 = 1 vCPU)."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.worker_cpu)
    error_message = "worker_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "worker_memory" {
  description = "Memory of one worker task in MiB (must be a valid Fargate combination with worker_cpu)."
  type        = number
  default     = 2048

  validation {
    condition     = var.worker_memory >= 512 && var.worker_memory <= 122880
    error_message = "worker_memory must be between 512 and 122880 MiB."
  }
}

variable "bridge_cpu" {
  description = "CPU units of one bridge task (1024 = 1 vCPU)."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.bridge_cpu)
    error_message = "bridge_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "bridge_memory" {
  description = "Memory of one bridge task in MiB (must be a valid Fargate combination with bridge_cpu)."
  type        = number
  default     = 1024

  validation {
    # The bridge runs with a 512 MB V8 heap (ecs.tf) and peaks well above it in RSS under a backlog (bench/README.md).
    condition     = var.bridge_memory >= 1024 && var.bridge_memory <= 122880
    error_message = "bridge_memory must be between 1024 and 122880 MiB (the bridge's heap cap is 512 MB)."
  }
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups, in days (a value CloudWatch accepts; at least a year by default for audit)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

# ---------------------------------------------------------------------------
# External endpoints: Temporal and Kafka
# ---------------------------------------------------------------------------

variable "temporal_address" {
  description = "Temporal frontend as host:port, for example my-ns.a1b2c.tmprl.cloud:7233 (Temporal Cloud) or temporal.internal:7233 (self-hosted)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9.-]+:[0-9]{1,5}$", var.temporal_address))
    error_message = "temporal_address must be host:port."
  }
}

variable "temporal_namespace" {
  description = "Temporal namespace the worker polls and the bridge signals (Temporal Cloud: <name>.<account id>)."
  type        = string
  default     = "default"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", var.temporal_namespace))
    error_message = "temporal_namespace must be a valid Temporal namespace name."
  }
}

variable "temporal_task_queue" {
  description = "Temporal task queue of the pipeline's workflows and activities."
  type        = string
  default     = "kiosk-pipeline"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", var.temporal_task_queue))
    error_message = "temporal_task_queue must be letters, digits, dots, underscores or hyphens."
  }
}

variable "temporal_deployment_name" {
  description = "Temporal Worker Deployment the workers are versions of (TEMPORAL_DEPLOYMENT_NAME); each worker's build id is its image tag."
  type        = string
  default     = "kiosk-pipeline"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,100}$", var.temporal_deployment_name))
    error_message = "temporal_deployment_name must be letters, digits, underscores or hyphens."
  }
}

variable "temporal_auth" {
  description = "How the services authenticate to Temporal: api_key (Temporal Cloud API key), mtls (a client certificate and key: Temporal Cloud or a self-hosted cluster with mTLS), both read from a Secrets Manager secret this configuration creates and an operator fills, and both imply TLS; or none (a self-hosted cluster reached privately)."
  type        = string
  default     = "api_key"

  validation {
    condition     = contains(["api_key", "mtls", "none"], var.temporal_auth)
    error_message = "temporal_auth must be api_key, mtls or none."
  }
}

variable "temporal_tls_server_ca" {
  description = "PEM of the CA that signed a self-hosted Temporal frontend's certificate (TEMPORAL_TLS_SERVER_CA_CERT_DATA; a certificate, not a secret). Empty: the system's roots, which Temporal Cloud's certificates chain to."
  type        = string
  default     = ""

  validation {
    condition     = var.temporal_tls_server_ca == "" || can(regex("-----BEGIN CERTIFICATE-----", var.temporal_tls_server_ca))
    error_message = "temporal_tls_server_ca must be empty or PEM certificates."
  }
}

variable "temporal_tls_server_name" {
  description = "Name in the Temporal frontend's certificate when it differs from the host of temporal_address (TEMPORAL_TLS_SERVER_NAME). Empty: the address's host."
  type        = string
  default     = ""
}

variable "temporal_tls" {
  description = "Connect to Temporal over TLS (always on with an API key or mTLS; set true for a self-hosted frontend that terminates TLS)."
  type        = bool
  default     = true
}

variable "temporal_ui_url" {
  description = "Temporal Web UI base URL printed in links by the worker and the CLI (for example https://cloud.temporal.io/namespaces/<namespace>). Empty keeps the application default."
  type        = string
  default     = ""

  validation {
    condition     = var.temporal_ui_url == "" || can(regex("^https?://", var.temporal_ui_url))
    error_message = "temporal_ui_url must be empty or an http(s) URL."
  }
}

variable "worker_max_concurrent_activities" {
  description = "Activities one worker task runs at once (WORKER_MAX_ACTIVITIES); with worker_desired_count it bounds the load on the database."
  type        = number
  default     = 8

  validation {
    condition     = var.worker_max_concurrent_activities >= 1 && var.worker_max_concurrent_activities <= 200 && floor(var.worker_max_concurrent_activities) == var.worker_max_concurrent_activities
    error_message = "worker_max_concurrent_activities must be a whole number between 1 and 200."
  }
}

variable "kafka_brokers" {
  description = "Kafka bootstrap brokers as host:port: Amazon MSK's SASL/SCRAM brokers (port 9096) or IAM brokers (9098), Confluent Cloud's bootstrap server (9092)."
  type        = list(string)

  validation {
    condition     = length(var.kafka_brokers) > 0 && alltrue([for b in var.kafka_brokers : can(regex("^[A-Za-z0-9.-]+:[0-9]{1,5}$", b))])
    error_message = "kafka_brokers must be a non-empty list of host:port entries."
  }
}

variable "kafka_broker_port_range" {
  description = "Lowest and highest TCP port of the Kafka brokers, for the services' egress rule (Confluent Cloud 9092; MSK SASL/SCRAM 9096; MSK IAM 9098)."
  type        = object({ from = number, to = number })
  default     = { from = 9092, to = 9098 }

  validation {
    condition     = var.kafka_broker_port_range.from >= 1 && var.kafka_broker_port_range.from <= var.kafka_broker_port_range.to && var.kafka_broker_port_range.to <= 65535
    error_message = "kafka_broker_port_range must satisfy 1 <= from <= to <= 65535."
  }
}

variable "kafka_topic" {
  description = "Kafka topic of the live kiosk interactions."
  type        = string
  default     = "lmnh"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,249}$", var.kafka_topic))
    error_message = "kafka_topic must be 1-249 letters, digits, dots, underscores or hyphens."
  }
}

variable "kafka_group_id" {
  description = "Kafka consumer group of the bridge (distinct per environment when several share a cluster)."
  type        = string
  default     = "kiosk-pipeline-bridge"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,249}$", var.kafka_group_id))
    error_message = "kafka_group_id must be 1-249 letters, digits, dots, underscores or hyphens."
  }
}

variable "kafka_ssl" {
  description = "Connect to Kafka over TLS (SASL_SSL). Keep true outside local development."
  type        = bool
  default     = true
}

variable "kafka_sasl_mechanism" {
  description = "How the services log in to Kafka (KAFKA_SASL_MECHANISM): scram-sha-512 (Amazon MSK SASL/SCRAM, port 9096), aws-msk-iam (Amazon MSK IAM with the tasks' own roles, port 9098: no secret), plain (Confluent Cloud API key and secret) or scram-sha-256."
  type        = string
  default     = "scram-sha-512"

  validation {
    condition     = contains(["plain", "scram-sha-256", "scram-sha-512", "aws-msk-iam"], var.kafka_sasl_mechanism)
    error_message = "kafka_sasl_mechanism must be plain, scram-sha-256, scram-sha-512 or aws-msk-iam."
  }

  validation {
    condition     = var.kafka_sasl_mechanism != "aws-msk-iam" || var.kafka_ssl
    error_message = "aws-msk-iam needs kafka_ssl = true (MSK's IAM listener is TLS only)."
  }
}

variable "kafka_ssl_ca" {
  description = "PEM of a private CA that signed the brokers' certificates (KAFKA_SSL_CA; a certificate, not a secret). Empty: the system's roots, which MSK's and Confluent Cloud's certificates chain to."
  type        = string
  default     = ""

  validation {
    condition     = var.kafka_ssl_ca == "" || can(regex("-----BEGIN CERTIFICATE-----", var.kafka_ssl_ca))
    error_message = "kafka_ssl_ca must be empty or PEM certificates."
  }
}

variable "msk_cluster_arn" {
  description = "ARN of the Amazon MSK cluster (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>), required with kafka_sasl_mechanism = aws-msk-iam: the worker's and the bridge's task roles get kafka-cluster permissions on it, its topic and the consumer group."
  type        = string
  default     = ""

  validation {
    condition     = var.msk_cluster_arn == "" || can(regex("^arn:aws[a-z-]*:kafka:[a-z0-9-]+:[0-9]{12}:cluster/[^/]+/[^/]+$", var.msk_cluster_arn))
    error_message = "msk_cluster_arn must be empty or an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)."
  }

  validation {
    condition     = var.kafka_sasl_mechanism != "aws-msk-iam" || var.msk_cluster_arn != ""
    error_message = "kafka_sasl_mechanism = aws-msk-iam needs msk_cluster_arn."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of the services: debug, info, warn or error (the JSON logs and the Temporal runtime's)."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

# ---------------------------------------------------------------------------
# Alarms (alarms.tf)
# ---------------------------------------------------------------------------

variable "alarm_sns_topic_arn" {
  description = "SNS topic that receives alarm and recovery notifications (an existing topic, e.g. wired to the on-call pager). Empty: the alarms still change state in CloudWatch but notify no one."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_sns_topic_arn == "" || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be empty or an SNS topic ARN."
  }
}

variable "batch_run_max_hours" {
  description = "Hours without a completed batch run after which the 'scheduled run missed' alarm fires (the schedule runs daily: 26 leaves two hours of slack)."
  type        = number
  default     = 26

  validation {
    condition     = var.batch_run_max_hours >= 1
    error_message = "batch_run_max_hours must be at least 1."
  }
}
