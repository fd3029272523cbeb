# Random FunnelPlotR 0.6.0 cases. Run from this folder:
#   Rscript gen_funnel_random.R /path/to/FunnelPlotR/R   (writes ../funnel_funnelplotr_random.json)
source("funnel_lib.R")
set.seed(6060)

# phi just below 1 with n * phi >= n - 1: the package falls back to unadjusted limits but
# keeps a tau2 above 0. Search seeds for such data (PR and SHMI).
found <- 0
for (seed in 1:5000) {
  set.seed(seed)
  m <- sample(5:40, 1); den <- round(runif(m, 30, 800)); num <- rbinom(m, den, 0.15)
  r <- suppressMessages(funnel_plot(data.frame(num = num, den = den, grp = 1:m), num, den, grp,
                                    data_type = "PR", label = NA))
  if (!r$draw_adjusted && r$tau2 > 0) {
    run_case(sprintf("fallback_tau2_pr_seed%d", seed), num, den, NULL, "PR")
    run_case(sprintf("fallback_tau2_pr_seed%d_both", seed), num, den, NULL, "PR", unadjusted = TRUE)
    found <- found + 1
    if (found == 2) break
  }
}
found <- 0
for (seed in 1:5000) {
  set.seed(seed)
  m <- sample(12:60, 1); e <- runif(m, 20, 900); o <- rpois(m, e)
  r <- suppressMessages(funnel_plot(data.frame(num = o, den = e, grp = 1:m), num, den, grp,
                                    data_type = "SR", label = NA))
  if (!r$draw_adjusted && r$tau2 > 0) {
    run_case(sprintf("fallback_tau2_shmi_seed%d", seed), o, e, NULL, "SR")
    found <- found + 1
    if (found == 2) break
  }
}

set.seed(6060)
for (i in 1:130) {
  type <- sample(c("PR", "SHMI", "CQC", "RC"), 1)
  m <- sample(c(3:12, 15, 20, 30, 50), 1)
  od <- sample(c(0, 0.05, 0.2, 0.5), 1)
  record <- runif(1) < 0.2
  small <- runif(1) < 0.2
  hi <- if (small) 15 else sample(c(100, 1000, 20000), 1)
  if (type == "PR") {
    den <- pmax(1, round(exp(runif(m, log(1), log(hi)))))
    num <- rbinom(m, den, plogis(rnorm(m, qlogis(runif(1, 0.02, 0.9)), od)))
  } else if (type == "RC") {
    den <- rpois(m, exp(runif(m, log(2), log(hi)))) + 1
    num <- rpois(m, den * runif(1, 0.3, 2) * exp(rnorm(m, 0, od)))
  } else {
    den <- exp(runif(m, log(if (small) 0.5 else 5), log(hi)))
    num <- rpois(m, den * exp(rnorm(m, 0, od)))
  }
  groups <- NULL
  if (record) {  # split each group into 1-4 rows
    reps <- sample(1:4, m, replace = TRUE)
    gname <- sample(c(sprintf("T%03d", 1:m)))
    groups <- rep(gname, reps)
    split_int <- function(x, k) if (k == 1) x else { b <- sort(sample(0:x, k - 1, TRUE)); diff(c(0, b, x)) }
    if (type == "PR") {
      num2 <- c(); den2 <- c()
      for (j in 1:m) { dd <- split_int(den[j], reps[j]); nn <- split_int(num[j], reps[j])
        nn <- pmin(nn, dd); nn[1] <- nn[1] + (num[j] - sum(nn)); if (any(nn > dd)) { nn <- dd * 0; nn[1] <- num[j]; dd[1] <- max(dd[1], num[j]) }
        num2 <- c(num2, nn); den2 <- c(den2, dd) }
      num <- num2; den <- den2
    } else {
      num <- unlist(mapply(split_int, num, reps)); den <- unlist(mapply(function(x, k) x * rep(1 / k, k), den, reps))
    }
    o <- sample(length(num)); num <- num[o]; den <- den[o]; groups <- groups[o]
  }
  if (type == "PR" && any(den == 0)) next
  run_case(sprintf("random_%03d_%s", i, type), num, den, groups,
           data_type = if (type %in% c("SHMI", "CQC")) "SR" else type,
           sr_method = if (type == "CQC") "CQC" else "SHMI",
           adjusted = runif(1) < 0.8, unadjusted = runif(1) < 0.4,
           trim_by = sample(c(0.1, 0.1, 0.05, 0.2, 0.25), 1),
           multiplier = sample(c(1, 1, 100), 1),
           shmi_rounding = runif(1) < 0.8)
}
write_fixture("../funnel_funnelplotr_random.json", "gen_funnel_random.R (random)")
