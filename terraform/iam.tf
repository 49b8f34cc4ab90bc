# IAM with least privilege.
#
# Execution roles (used by ECS itself to start a task): pull the image, write the
# service's own log group, read only the secrets that service needs.
# Task roles (used by the application code): the worker may only list and read the data
# bucket's objects under var.s3_prefix; the bridge gets no task role at all, because it
# calls no AWS API.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    sid     = "EcsTasksOfThisAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:*"]
    }
  }
}

locals {
  temporal_secret_arns = [for s in aws_secretsmanager_secret.temporal : s.arn]

  # Secrets each service's execution role may read (and inject into the container).
  kafka_secret_arns = [for s in aws_secretsmanager_secret.kafka : s.arn]

  # Both read Kafka (the worker re-reads a range after a crash) and the database (the bridge: the stored
  # offsets behind its lag metric, and its /readyz check).
  execution_secret_arns = {
    worker = concat([aws_secretsmanager_secret.database.arn], local.kafka_secret_arns, local.temporal_secret_arns)
    bridge = concat([aws_secretsmanager_secret.database.arn], local.kafka_secret_arns, local.temporal_secret_arns)
  }

  execution_log_group_arns = {
    worker = aws_cloudwatch_log_group.worker.arn
    bridge = aws_cloudwatch_log_group.bridge.arn
  }
}

# ---------------------------------------------------------------------------
# Execution roles, one per service
# ---------------------------------------------------------------------------

resource "aws_iam_role" "execution" {
  for_each = local.execution_secret_arns

  name               = "${local.name}-${each.key}-execution"
  description        = "ECS execution role of the ${each.key}: image pull, its log group, its secrets"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  for_each = local.execution_secret_arns

  statement {
    sid       = "EcrAuthorizationTokenIsAccountWide"
    effect    = "Allow"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid    = "PullTheApplicationImage"
    effect = "Allow"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [aws_ecr_repository.app.arn]
  }

  statement {
    sid       = "WriteOwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.execution_log_group_arns[each.key]}:*"]
  }

  statement {
    sid       = "ReadOnlyTheNamedSecrets"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = each.value
  }

  statement {
    sid       = "DecryptSecretsAndImageLayers"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "secretsmanager.${var.aws_region}.amazonaws.com",
        "ecr.${var.aws_region}.amazonaws.com",
      ]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  for_each = local.execution_secret_arns

  name   = "${local.name}-${each.key}-execution"
  role   = aws_iam_role.execution[each.key].id
  policy = data.aws_iam_policy_document.execution[each.key].json
}

# ---------------------------------------------------------------------------
# Worker task role: read the bucket's objects, nothing else
# ---------------------------------------------------------------------------

resource "aws_iam_role" "worker_task" {
  name               = "${local.name}-worker-task"
  description        = "Application role of the Temporal worker: read-only access to the data bucket"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "worker_task" {
  statement {
    sid       = "ListObjectsUnderPrefix"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]

    dynamic "condition" {
      for_each = var.s3_prefix == "" ? [] : [var.s3_prefix]

      content {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${condition.value}*"]
      }
    }
  }

  statement {
    sid       = "ReadObjectsUnderPrefix"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.s3_object_arn_pattern]
  }

  statement {
    sid       = "DecryptObjectsThroughS3"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.aws_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "worker_task" {
  name   = "${local.name}-worker-task"
  role   = aws_iam_role.worker_task.id
  policy = data.aws_iam_policy_document.worker_task.json
}

# ---------------------------------------------------------------------------
# RDS enhanced monitoring
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name               = "${local.name}-rds-monitoring"
  description        = "Lets RDS publish enhanced monitoring metrics of ${local.db_identifier}"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
