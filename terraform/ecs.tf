# ECS Fargate: one cluster, one image, two services with different commands.
#   worker: node --max-old-space-size=768 dist/worker.js (Temporal worker: batch and stream workflows, activities)
#   bridge: node --max-old-space-size=512 dist/bridge/main.js (Kafka consumer that signals the streaming workflows)
# During a deploy, worker-previous runs the previous image (worker_previous_image_tag) for the runs pinned to
# its version until they finish (README.md, "Later deployments").
# One-off operator tasks (migrations, schedule creation) run the worker task definition
# with a command override; see README.md.

resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  # Should anyone enable ECS Exec on a service, its sessions are logged and encrypted.
  configuration {
    execute_command_configuration {
      kms_key_id = aws_kms_key.main.arn
      logging    = "OVERRIDE"

      log_configuration {
        cloud_watch_encryption_enabled = true
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.ecs_exec.name
      }
    }
  }
}

locals {
  temporal_secret_arn = one(aws_secretsmanager_secret.temporal[*].arn)

  temporal_secrets = {
    api_key = [{ name = "TEMPORAL_API_KEY", valueFrom = "${local.temporal_secret_arn}:api_key::" }]
    mtls = [
      { name = "TEMPORAL_TLS_CLIENT_CERT_DATA", valueFrom = "${local.temporal_secret_arn}:client_cert::" },
      { name = "TEMPORAL_TLS_CLIENT_KEY_DATA", valueFrom = "${local.temporal_secret_arn}:client_key::" },
    ]
    none = []
  }[var.temporal_auth]

  # Both services read Kafka: the bridge consumes, the worker re-reads a range after a crash (stream/reread.ts).
  kafka_secret_arn = one(aws_secretsmanager_secret.kafka[*].arn)
  kafka_secrets = local.kafka_secret_arn == null ? [] : [
    { name = "KAFKA_SASL_USERNAME", valueFrom = "${local.kafka_secret_arn}:username::" },
    { name = "KAFKA_SASL_PASSWORD", valueFrom = "${local.kafka_secret_arn}:password::" },
  ]

  # Non-secret configuration, the same for every container (infra/config.ts reads it).
  # Fargate drops task-definition variables whose value is empty, so empty values are left
  # out: S3_PREFIX and TEMPORAL_UI_URL then take the application defaults, and S3_ENDPOINT
  # is set to "" by the image, which selects AWS S3 with the task role's credentials.
  common_environment = concat(
    [
      { name = "NODE_ENV", value = "production" },
      { name = "AWS_REGION", value = var.aws_region },
      { name = "TEMPORAL_ADDRESS", value = var.temporal_address },
      { name = "TEMPORAL_NAMESPACE", value = var.temporal_namespace },
      { name = "TEMPORAL_TASK_QUEUE", value = var.temporal_task_queue },
      { name = "TEMPORAL_TLS", value = tostring(var.temporal_tls || var.temporal_auth != "none") },
      { name = "KAFKA_BROKERS", value = join(",", var.kafka_brokers) },
      { name = "KAFKA_TOPIC", value = var.kafka_topic },
      { name = "KAFKA_GROUP_ID", value = var.kafka_group_id },
      { name = "KAFKA_SSL", value = tostring(var.kafka_ssl) },
      { name = "KAFKA_SASL_MECHANISM", value = var.kafka_sasl_mechanism },
      { name = "S3_BUCKET", value = aws_s3_bucket.data.bucket },
      # The RDS CA bundle the image downloads: verify-full against it (infra/config.ts).
      { name = "DATABASE_SSL_CA", value = local.rds_ca_bundle_path },
      { name = "LOG_LEVEL", value = var.log_level },
    ],
    var.s3_prefix == "" ? [] : [{ name = "S3_PREFIX", value = var.s3_prefix }],
    var.temporal_ui_url == "" ? [] : [{ name = "TEMPORAL_UI_URL", value = var.temporal_ui_url }],
    var.kafka_ssl_ca == "" ? [] : [{ name = "KAFKA_SSL_CA", value = var.kafka_ssl_ca }],
    var.temporal_tls_server_ca == "" ? [] : [{ name = "TEMPORAL_TLS_SERVER_CA_CERT_DATA", value = var.temporal_tls_server_ca }],
    var.temporal_tls_server_name == "" ? [] : [{ name = "TEMPORAL_TLS_SERVER_NAME", value = var.temporal_tls_server_name }],
  )

  # Every worker is one version of the Worker Deployment: its build id is its image tag (infra/worker-deployment.ts).
  worker_environment = concat(local.common_environment, [
    { name = "WORKFLOW_BUNDLE_PATH", value = local.workflow_bundle_path },
    { name = "WORKER_MAX_ACTIVITIES", value = tostring(var.worker_max_concurrent_activities) },
    { name = "WORKER_METRICS_ADDRESS", value = "127.0.0.1:9464" },
    { name = "TEMPORAL_DEPLOYMENT_NAME", value = var.temporal_deployment_name },
  ])

  services = {
    worker = {
      command       = ["node", "--max-old-space-size=768", "dist/worker.js"]
      cpu           = var.worker_cpu
      memory        = var.worker_memory
      desired_count = var.worker_desired_count
      task_role_arn = aws_iam_role.worker_task.arn
      log_group     = aws_cloudwatch_log_group.worker.name
      # Lets in-flight activities finish when a task is replaced (Fargate maximum).
      stop_timeout   = 120
      health_port    = 9464
      image          = local.image
      execution_role = "worker"
      environment = concat(local.worker_environment, [
        { name = "TEMPORAL_WORKER_BUILD_ID", value = var.image_tag },
      ])
      secrets = concat([
        { name = "DATABASE_URL", valueFrom = aws_secretsmanager_secret.database.arn },
      ], local.kafka_secrets, local.temporal_secrets)
    }

    bridge = {
      command       = ["node", "--max-old-space-size=512", "dist/bridge/main.js"]
      cpu           = var.bridge_cpu
      memory        = var.bridge_memory
      desired_count = var.bridge_desired_count
      task_role_arn = one(aws_iam_role.bridge_task[*].arn)
      log_group     = aws_cloudwatch_log_group.bridge.name
      # Time to finish the current batch and commit its offsets before SIGKILL.
      stop_timeout   = 60
      health_port    = 9465
      image          = local.image
      execution_role = "bridge"
      environment = concat(local.common_environment, [
        { name = "BRIDGE_METRICS_ADDRESS", value = "127.0.0.1:9465" },
      ])
      secrets = concat([
        { name = "DATABASE_URL", valueFrom = aws_secretsmanager_secret.database.arn },
      ], local.kafka_secrets, local.temporal_secrets)
    }
  }

  # The previous version's workers, kept while runs pinned to it are open.
  all_services = merge(local.services, var.worker_previous_image_tag == "" ? {} : {
    worker-previous = merge(local.services.worker, {
      image         = "${aws_ecr_repository.app.repository_url}:${var.worker_previous_image_tag}"
      desired_count = var.worker_previous_desired_count
      environment = concat(local.worker_environment, [
        { name = "TEMPORAL_WORKER_BUILD_ID", value = var.worker_previous_image_tag },
      ])
    })
  })
}

resource "aws_ecs_task_definition" "service" {
  for_each = local.all_services

  family                   = "${local.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(each.value.cpu)
  memory                   = tostring(each.value.memory)
  execution_role_arn       = aws_iam_role.execution[each.value.execution_role].arn
  task_role_arn            = each.value.task_role_arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # The root filesystem is read-only; this task-local volume is the only writable path.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = each.key
      image                  = each.value.image
      essential              = true
      command                = each.value.command
      user                   = "1000:1000"
      privileged             = false
      readonlyRootFilesystem = true
      stopTimeout            = each.value.stop_timeout
      environment            = each.value.environment
      secrets                = each.value.secrets

      # /readyz (Temporal, PostgreSQL, and Kafka for the bridge) on the task's loopback listener: a new
      # deployment whose tasks never get ready rolls back (circuit breaker) instead of replacing working ones.
      # Ten failures 30 s apart (5 minutes) before a task is replaced, so a short outage of a dependency does
      # not restart every task; a longer one restarts them, which reconnects and loses nothing (loads are
      # idempotent, offsets are committed only after Temporal accepted them).
      healthCheck = {
        command = [
          "CMD", "node", "-e",
          "fetch('http://127.0.0.1:${each.value.health_port}/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
        ]
        interval    = 30
        timeout     = 10
        retries     = 10
        startPeriod = 120
      }

      mountPoints = [
        { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
      ]

      linuxParameters = {
        initProcessEnabled = true
        capabilities       = { drop = ["ALL"] }
      }

      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = each.value.log_group
          awslogs-region        = var.aws_region
          awslogs-stream-prefix = each.key
        }
      }
    },
  ])
}

resource "aws_ecs_service" "service" {
  for_each = local.all_services

  name             = each.key
  cluster          = aws_ecs_cluster.main.id
  task_definition  = aws_ecs_task_definition.service[each.key].arn
  desired_count    = each.value.desired_count
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  enable_execute_command  = false
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.services.id]
    assign_public_ip = false
  }

  # The database and its secret must exist before the first worker starts.
  depends_on = [
    aws_iam_role_policy.execution,
    aws_iam_role_policy.worker_task,
    aws_secretsmanager_secret_version.database,
  ]
}
