# ---------------------------------------------------------------------------
# The eight functions (Cloud Functions gen2, Node.js 24), all built from the one
# source archive of storage.tf. Function name = entry point = the name the
# code registers with functions-framework, so the cloud URL is
# https://REGION-PROJECT.cloudfunctions.net/<name> (docs/design.md §5).
# ---------------------------------------------------------------------------
resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions

  project     = var.project_id
  location    = var.region
  name        = each.key
  description = "exploration-data ${each.key}"
  labels      = var.labels

  build_config {
    runtime           = "nodejs24"
    entry_point       = each.key
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    # The archive already holds the compiled JavaScript: the buildpack only
    # runs `npm ci` (production dependencies from package-lock.json) and must
    # not run package.json's `build` script (TypeScript is not in the archive).
    environment_variables = {
      GOOGLE_NODE_RUN_SCRIPTS = ""
    }

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = local.settings[each.key].memory
    available_cpu                    = local.settings[each.key].cpu
    timeout_seconds                  = local.settings[each.key].timeout_seconds
    max_instance_count               = local.settings[each.key].max_instances
    max_instance_request_concurrency = local.settings[each.key].concurrency
    min_instance_count               = 0

    service_account_email          = google_service_account.fn[each.key].email
    environment_variables          = local.function_env
    all_traffic_on_latest_revision = true

    # Reachable from the internet so curl and notebooks can call it, but every
    # request must carry an identity token of a principal in invoker_members
    # (iam.tf); there is no public invoker. The event function only takes
    # requests from Eventarc, i.e. from inside Google Cloud.
    ingress_settings = each.value.kind == "event" ? "ALLOW_INTERNAL_ONLY" : "ALLOW_ALL"
  }

  # recordDatasetMetadata: google.cloud.storage.object.v1.finalized on the
  # datasets bucket (docs/design.md §7); generateShard: google.cloud.pubsub.topic.v1.messagePublished
  # on the shard topic (pubsub.tf). Eventarc delivers with the events identity
  # of eventarc.tf and retries failed deliveries (each function throws on a
  # transient failure and acknowledges what can never succeed, docs/design.md §6-§7).
  dynamic "event_trigger" {
    for_each = each.value.kind == "event" ? [each.value.trigger] : []
    content {
      # A Cloud Storage trigger lives in the bucket's location; a Pub/Sub one
      # with the function.
      trigger_region        = event_trigger.value == "storage" ? local.trigger_region : var.region
      event_type            = local.event_types[event_trigger.value]
      pubsub_topic          = event_trigger.value == "shards" ? google_pubsub_topic.shards.id : null
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.events.email

      dynamic "event_filters" {
        for_each = event_trigger.value == "storage" ? [1] : []
        content {
          attribute = "bucket"
          value     = google_storage_bucket.datasets.name
        }
      }
    }
  }

  depends_on = [
    google_project_service.apis,
    # Runtime permissions in place before the first revision serves.
    google_storage_bucket_iam_member.datasets,
    google_project_iam_member.firestore,
    google_pubsub_topic_iam_member.shards_publisher,
    google_service_account_iam_member.self_sign,
    # Build permissions in place before Cloud Build starts.
    google_artifact_registry_repository_iam_member.build_writer,
    google_project_iam_member.build_logs,
    google_project_iam_member.build_sources,
    # Eventarc prerequisites (eventarc.tf) before the trigger is created.
    google_project_iam_member.gcs_pubsub_publisher,
    google_project_iam_member.events_receiver,
    google_firestore_database.catalogue,
  ]
}
