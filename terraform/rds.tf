# PostgreSQL on RDS: private subnets only, encrypted with the project key, TLS enforced,
# automated backups, deletion protection on by default, reachable only from the
# services security group (network.tf).

locals {
  db_identifier   = "${local.name}-postgres"
  db_major_family = "postgres${split(".", var.db_engine_version)[0]}"
}

resource "aws_db_subnet_group" "main" {
  name        = "${local.name}-private"
  description = "Private subnets of ${local.name}"
  subnet_ids  = var.private_subnet_ids
}

resource "aws_db_parameter_group" "main" {
  name_prefix = "${local.name}-"
  family      = local.db_major_family
  description = "${local.name}: TLS only, slow-statement and DDL logging"

  # Reject unencrypted connections.
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # Log schema changes (migrations) and every statement slower than 1 s.
  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# Generated once; kept in Secrets Manager (secrets.tf) and in the encrypted remote state.
resource "random_password" "db_master" {
  length  = 40
  special = false
}

resource "aws_db_instance" "main" {
  identifier     = local.db_identifier
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  db_name  = var.db_name
  username = var.db_username
  password = random_password.db_master.result
  port     = 5432

  # Storage
  storage_type          = "gp3"
  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_max_allocated_storage_gb
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.main.arn

  # Network: private subnets, no public address, only the services may connect.
  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  multi_az               = var.db_multi_az
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  parameter_group_name                = aws_db_parameter_group.main.name
  iam_database_authentication_enabled = true

  # Backups and protection
  backup_retention_period   = var.db_backup_retention_days
  backup_window             = "02:00-03:00"
  maintenance_window        = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.db_identifier}-final"

  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  apply_immediately           = false

  # Observability
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.main.arn
  performance_insights_retention_period = var.db_performance_insights_retention_days

  # RDS would otherwise create these log groups itself, unencrypted and kept forever.
  depends_on = [aws_cloudwatch_log_group.rds]
}
