# ---------------------------------------------------------------------------
# Datasets bucket: private, uniform bucket-level access, public access
# prevention enforced. Objects of a version are immutable (docs/design.md §3); the
# generator may create objects but not delete them, so IAM backs that up:
# replacing an existing object needs storage.objects.delete, which no
# function has. Versioning keeps a deleted or replaced object recoverable
# for noncurrent_version_retention_days.
# ---------------------------------------------------------------------------
resource "google_storage_bucket" "datasets" {
  # checkov:skip=CKV_GCP_62:Legacy usage logs would need a second bucket that itself goes unlogged; reads and writes are audited with Cloud Audit Logs Data Access logs for storage.googleapis.com, turned on project- or organisation-wide (docs/deploy.md).
  name     = local.datasets_bucket
  project  = var.project_id
  location = local.bucket_location

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.datasets_bucket_force_destroy

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  labels = var.labels

  depends_on = [google_project_service.apis]
}

# ---------------------------------------------------------------------------
# Source bucket: holds the zipped function source; Cloud Build reads it.
# Archives are content-addressed (named by their MD5), so every change of
# the build output is a new object and a new function revision.
# ---------------------------------------------------------------------------
resource "google_storage_bucket" "source" {
  # checkov:skip=CKV_GCP_62:Holds only build inputs reproducible from the repository, read by Cloud Build; Data Access audit logs cover it like the datasets bucket (docs/deploy.md).
  name     = local.source_bucket
  project  = var.project_id
  location = local.bucket_location

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Only reproducible build inputs: no reason to block `terraform destroy`.
  force_destroy = true

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  labels = var.labels

  depends_on = [google_project_service.apis]
}

# ---------------------------------------------------------------------------
# Function source, packaged by Terraform itself: the compiled build output
# (build/functions, build/shared) plus package.json and package-lock.json.
# Cloud Build installs the production dependencies from the lock file, so
# `npm run build` then `terraform apply` is the whole deploy.
# ---------------------------------------------------------------------------
locals {
  build_path = "${path.module}/${var.build_dir}"
  # Source maps are left out: the runtime does not use them, and the archive's
  # inputs are kept in the Terraform state.
  build_files = sort([
    for f in distinct(flatten([for g in var.build_globs : tolist(fileset(local.build_path, g))])) : f
    if !endswith(f, ".map")
  ])
}

data "archive_file" "source" {
  type             = "zip"
  output_path      = "${path.module}/dist/function-source.zip"
  output_file_mode = "0644"

  dynamic "source" {
    for_each = local.build_files
    content {
      filename = "build/${source.value}"
      content  = file("${local.build_path}/${source.value}")
    }
  }

  source {
    filename = "package.json"
    content  = file("${path.module}/../package.json")
  }

  source {
    filename = "package-lock.json"
    content  = file("${path.module}/../package-lock.json")
  }

  lifecycle {
    precondition {
      condition     = contains(local.build_files, "functions/index.js")
      error_message = "No compiled functions in ${var.build_dir}/functions/index.js: run `npm ci && npm run build` in the repository root before `terraform apply`."
    }
  }
}

resource "google_storage_bucket_object" "source" {
  name   = "function-source-${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}
