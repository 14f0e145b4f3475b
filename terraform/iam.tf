# ---------------------------------------------------------------------------
# One service account per function, each holding only what its code does
# (docs/deploy.md has the same table for humans):
#
#   generator (generateDataset)
#     - roles/storage.objectCreator on the datasets bucket: writes the version's
#       objects. No delete, so it cannot replace an existing object either: the
#       objects of a version are immutable (docs/design.md §3).
#     - roles/storage.objectViewer on the datasets bucket: reads back the
#       metadata of what it wrote (size, crc32c, md5 as GCS reports them) and
#       checks that a version's objects exist. Read access to its own outputs
#       exposes nothing new; a custom role holding only storage.objects.get
#       would save little and needs roles/iam.roleAdmin to deploy, plus its id
#       cannot be reused for weeks after a destroy.
#     - roles/datastore.user on the "(default)" database only (IAM condition):
#       allocates versions (a counter document) and writes catalogue entries.
#     - roles/pubsub.publisher on the topic dataset-shards only (pubsub.tf):
#       a sharded request publishes its shard messages.
#   shard-writer (generateShard, docs/design.md §7)
#     - roles/storage.objectCreator on the datasets bucket: writes its shard's
#       files and, for the last shard recorded, metadata_v{N}.json. No delete:
#       a redelivered message can never replace an object (docs/design.md §3).
#     - roles/storage.objectViewer on the datasets bucket: the redelivery check.
#       Pub/Sub delivers at least once, so a shard's objects may exist already;
#       the function reads their metadata (storage.objects.get: size, crc32c,
#       md5) to tell "done, with the expected checksums" from a stranger's
#       object, which fails the version. It also reads the other shards'
#       metadata when it is the last one and writes the version's metadata.
#       The role adds storage.objects.list, which reveals only object names of
#       the same bucket; a custom role with get alone costs what the generator's
#       note says.
#     - roles/datastore.user on the "(default)" database: reads the version's
#       allocation (the config comes from there, not from the message) and
#       records its shard.
#     It publishes nothing and signs nothing.
#   recorder (recordDatasetMetadata)
#     - roles/storage.objectViewer on the datasets bucket: reads metadata_v{N}.json.
#     - roles/datastore.user on the "(default)" database: records the version.
#   loaders (loadParquet, loadTfrecord, loadMetadata)
#     - roles/storage.objectViewer on the datasets bucket: a V4 signed URL
#       carries the signer's access, so the signer must be able to read.
#     - roles/datastore.viewer on the "(default)" database: reads the catalogue.
#     - roles/iam.serviceAccountTokenCreator on ITSELF only: signBlob with its
#       own identity for V4 signed URLs, so no key file exists anywhere.
#   lister (listDatasets)
#     - roles/datastore.viewer on the "(default)" database: reads the catalogue.
#       It signs nothing and reads no object.
#
# Nothing here is granted at project level except Firestore (its roles exist
# only at project level, hence the condition), log writing for the build, and
# the Eventarc receiver role, which has no narrower scope.
# ---------------------------------------------------------------------------

resource "google_service_account" "fn" {
  for_each = local.functions

  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.value.sa}"
  display_name = "exploration-data ${each.key}"
  description  = "Runtime identity of the ${each.key} function (${each.value.role})."

  depends_on = [google_project_service.apis]
}

locals {
  bucket_roles = merge(
    {
      for name, f in local.functions : "${name}/objectViewer" => {
        fn   = name
        role = "roles/storage.objectViewer"
      } if f.role != "lister"
    },
    {
      for name, f in local.functions : "${name}/objectCreator" => {
        fn   = name
        role = "roles/storage.objectCreator"
      } if contains(["generator", "shard-writer"], f.role)
    },
  )

  firestore_roles = {
    for name, f in local.functions : name => (contains(["loader", "lister"], f.role) ? "roles/datastore.viewer" : "roles/datastore.user")
  }

  signers = { for name, f in local.functions : name => f if f.role == "loader" }
}

resource "google_storage_bucket_iam_member" "datasets" {
  for_each = local.bucket_roles

  bucket = google_storage_bucket.datasets.name
  role   = each.value.role
  member = google_service_account.fn[each.value.fn].member
}

resource "google_project_iam_member" "firestore" {
  for_each = local.firestore_roles

  project = var.project_id
  role    = each.value
  member  = google_service_account.fn[each.key].member

  condition {
    title       = "catalogue-database-only"
    description = "Only the (default) Firestore database that holds the dataset catalogue."
    expression  = "resource.name == \"projects/${var.project_id}/databases/(default)\""
  }
}

resource "google_service_account_iam_member" "self_sign" {
  for_each = local.signers

  service_account_id = google_service_account.fn[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.fn[each.key].member
}

# ---------------------------------------------------------------------------
# Callers: the principals of invoker_members may invoke the HTTP functions
# (gen2 functions are Cloud Run services; invoking needs roles/run.invoker on
# the service). Nothing is granted to allUsers or allAuthenticatedUsers.
# ---------------------------------------------------------------------------
locals {
  invoker_grants = {
    for pair in setproduct(keys(local.http_functions), var.invoker_members) :
    "${pair[0]}/${pair[1]}" => { fn = pair[0], member = pair[1] }
  }
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = local.invoker_grants

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.value.fn].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value.member
}

# ---------------------------------------------------------------------------
# Build identity: Cloud Build builds the function images as this account
# instead of the project's default compute or Cloud Build account (which new
# organisations create without roles). It may write logs, push to this
# deployment's Artifact Registry repository, and read the function sources
# (the source bucket and the gcf-v2-sources-* bucket Cloud Functions copies
# them to); not the datasets bucket.
# ---------------------------------------------------------------------------
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-build"
  display_name = "exploration-data function builds"
  description  = "Cloud Build identity for building the exploration-data functions."

  depends_on = [google_project_service.apis]
}

resource "google_artifact_registry_repository" "functions" {
  # checkov:skip=CKV_GCP_84:Holds only function images built from this repository's code and npm dependencies, no datasets; Google-managed encryption at rest suffices, and a customer key would add a KMS key to manage and a dependency to every build.
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  format        = "DOCKER"
  description   = "Images of the exploration-data functions (built by Cloud Build)."
  labels        = var.labels

  # Keep the 5 newest images of each function; older builds are garbage.
  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s" # 30 days
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_artifact_registry_repository_iam_member" "build_writer" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

resource "google_project_iam_member" "build_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

resource "google_project_iam_member" "build_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = google_service_account.build.member

  condition {
    title       = "function-sources-only"
    description = "The source bucket of this deployment and the buckets Cloud Functions stages sources in."
    expression = join(" || ", [
      "resource.name == \"projects/_/buckets/${local.source_bucket}\"",
      "resource.name.startsWith(\"projects/_/buckets/${local.source_bucket}/\")",
      "resource.name.startsWith(\"projects/_/buckets/gcf-v2-sources-${data.google_project.this.number}-${var.region}\")",
    ])
  }
}
