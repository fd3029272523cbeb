# Hand-picked FunnelPlotR 0.6.0 cases. Run from this folder:
#   Rscript gen_funnel.R /path/to/FunnelPlotR/R     (writes ../funnel_funnelplotr.json)
source("funnel_lib.R")
set.seed(20261127)

# --- R's round(x, 2), used for SHMI expected counts -----------------------------------------
rx <- c(0.125, 0.135, 0.285, 1.005, 2.675, 10.125, 12.345, 0.015, 4.445, 99.995, 1234.565,
        (1:400) / 1000 + 7, runif(200, 0, 300), round(runif(200, 0, 50), 3) + 0.0005)
roundings <- list(x = N(rx), r_round2 = N(round(rx, 2)))

# --- proportions ------------------------------------------------------------------------------
m <- 24; den <- round(runif(m, 40, 3000)); num <- rbinom(m, den, 0.12 * exp(rnorm(m, 0, 0.25)))
trusts <- sprintf("Trust %s", LETTERS[1:m])
for (adj in c(TRUE, FALSE)) for (unadj in c(TRUE, FALSE))
  run_case(sprintf("pr_od_adj%s_unadj%s", adj, unadj), num, den, trusts, "PR",
           adjusted = adj, unadjusted = unadj)
run_case("pr_od_x100", num, den, trusts, "PR", multiplier = 100)
run_case("pr_od_x100_both", num, den, trusts, "PR", multiplier = 100, unadjusted = TRUE)
for (tb in c(0, 0.05, 0.2, 0.25, 0.49))
  run_case(sprintf("pr_trim_%s", tb), num, den, trusts, "PR", trim_by = tb)
den2 <- round(runif(30, 50, 1500)); num2 <- rbinom(30, den2, 0.2)
run_case("pr_binomial_fallback", num2, den2, NULL, "PR")
run_case("pr_binomial_fallback_x100", num2, den2, NULL, "PR", multiplier = 100)
run_case("pr_binomial_adjusted_and_unadjusted", num2, den2, NULL, "PR", unadjusted = TRUE)
# small denominators: the arcsine limits are not monotonic there and get cleaned up
den3 <- c(1, 2, 3, 4, 5, 6, 8, 10, 15, 25, 40, 60, 100, 2.5, 3.7)
num3 <- c(1, 0, 2, 1, 5, 0, 3, 2, 9, 3, 10, 20, 30, 1, 0)
run_case("pr_small_n", num3, den3, NULL, "PR")
run_case("pr_small_n_unadjusted", num3, den3, NULL, "PR", adjusted = FALSE, unadjusted = TRUE)
run_case("pr_small_n_x100_both", num3, den3, NULL, "PR", unadjusted = TRUE, multiplier = 100)
run_case("pr_high_p_small_n", c(1, 2, 3, 4, 9, 19, 47, 5), c(1, 2, 3, 4, 10, 20, 50, 6), NULL,
         "PR", unadjusted = TRUE)
run_case("pr_max_den_2", c(0, 1, 2, 1), c(1, 2, 2, 1), NULL, "PR", unadjusted = TRUE)
run_case("pr_zero_numerators", c(0, 0, 3, 5, 0, 12, 7, 1), c(50, 80, 120, 200, 30, 400, 150, 90),
         NULL, "PR")
run_case("pr_all_zero", rep(0, 6), c(10, 20, 30, 40, 50, 60), NULL, "PR", unadjusted = TRUE)
run_case("pr_all_zero_adjusted", rep(0, 6), c(10, 20, 30, 40, 50, 60), NULL, "PR")
run_case("pr_all_full", c(10, 20, 30, 40), c(10, 20, 30, 40), NULL, "PR", unadjusted = TRUE)
run_case("pr_some_full", c(10, 20, 25, 40, 3), c(10, 20, 30, 40, 9), NULL, "PR")
run_case("pr_same_denominators", c(5, 9, 14, 20, 30, 7), rep(100, 6), NULL, "PR")
run_case("pr_three_groups", c(10, 30, 50), c(100, 150, 200), c("a", "b", "c"), "PR")
run_case("pr_neither_limit", num, den, trusts, "PR", adjusted = FALSE, unadjusted = FALSE)
# extreme over-dispersion: the arcsine limits pass -pi/2 and the clean-up no longer holds them
run_case("pr_extreme_overdispersion", c(0, 0, 1), c(1, 1, 1), NULL, "PR", unadjusted = TRUE)
run_case("pr_extreme_overdispersion_2", c(0, 5, 10, 10, 1), c(10, 10, 10, 10, 12), NULL, "PR")
# record-level rows: patients in trusts, groups given out of order
g <- sample(c("Zeta", "alpha", "Beta", "beta", "Gamma", "delta", "O'Neil & Co", "<b>x</b>"),
            400, replace = TRUE)
died <- rbinom(400, 1, ifelse(g %in% c("Zeta", "beta"), 0.3, 0.1))
run_case("pr_record_level", died, rep(1, 400), g, "PR")
run_case("pr_record_level_both_x100", died, rep(1, 400), g, "PR", unadjusted = TRUE,
         multiplier = 100)
gi <- sample(c(1L, 2L, 3L, 10L, 11L, 20L, 100L), 400, replace = TRUE)
run_case("pr_record_level_integer_groups", rbinom(400, 1, 0.2), rep(1, 400), gi, "PR")
run_case("pr_integer_groups_12", rbinom(12, 80, 0.3), rep(80, 12), 1:12, "PR",
         unadjusted = TRUE)
# ties in the z-scores (identical groups) and exactly equal z at the quantiles
run_case("pr_ties", c(10, 10, 10, 20, 20, 5, 30, 30, 30, 12), c(100, 100, 100, 100, 100, 100,
         100, 100, 100, 100), NULL, "PR")

# --- standardised ratios, SHMI ---------------------------------------------------------------
shmi_data <- function(m, od = 0.1, lo = 20, hi = 3000) {
  e <- runif(m, lo, hi); o <- rpois(m, e * exp(rnorm(m, 0, od)))
  list(o = o, e = e)
}
s <- shmi_data(40)
run_case("shmi_40", s$o, s$e, NULL, "SR")
run_case("shmi_40_no_rounding", s$o, s$e, NULL, "SR", shmi_rounding = FALSE)
run_case("shmi_40_x100", s$o, s$e, NULL, "SR", multiplier = 100)
run_case("shmi_40_both", s$o, s$e, NULL, "SR", unadjusted = TRUE)
run_case("shmi_40_unadjusted", s$o, s$e, NULL, "SR", adjusted = FALSE, unadjusted = TRUE)
run_case("shmi_40_neither", s$o, s$e, NULL, "SR", adjusted = FALSE)
for (tb in c(0.05, 0.2, 0.25, 1 / 3, 0.4, 0.45))
  run_case(sprintf("shmi_trim_%.4f", tb), s$o, s$e, NULL, "SR", trim_by = tb)
# truncation bands around 1/trim_by groups
for (m in c(3, 4, 8, 9, 10, 11, 19, 20, 21)) {
  s2 <- shmi_data(m, 0.15)
  run_case(sprintf("shmi_groups_%d", m), s2$o, s2$e, NULL, "SR")
  if (m %in% c(9, 19)) run_case(sprintf("shmi_groups_%d_trim05", m), s2$o, s2$e, NULL, "SR",
                                trim_by = 0.05)
}
# expected counts that round half-way (R's round differs from Python's)
e_half <- c(10.125, 20.285, 30.675, 40.005, 50.015, 0.285 + 60, 71.125, 82.345, 93.555, 104.445,
            115.995, 2.675)
o_half <- c(12, 18, 40, 35, 55, 70, 60, 99, 80, 110, 130, 6)
run_case("shmi_half_rounding", o_half, e_half, NULL, "SR")
run_case("shmi_half_no_rounding", o_half, e_half, NULL, "SR", shmi_rounding = FALSE)
run_case("shmi_half_unadjusted", o_half, e_half, NULL, "SR", adjusted = FALSE, unadjusted = TRUE)
# ties: identical trusts share an average rank, which decides their truncation band
o_t <- c(50, 50, 50, 80, 80, 20, 20, 100, 60, 60, 60, 60, 45, 90, 30, 75, 55, 65, 52, 48)
e_t <- c(50, 50, 50, 70, 70, 30, 30, 80, 60, 60, 60, 60, 50, 80, 35, 70, 50, 60, 50, 50)
run_case("shmi_ties", o_t, e_t, NULL, "SR")
run_case("shmi_ties_trim02", o_t, e_t, NULL, "SR", trim_by = 0.2)
# zero observed: truncated with many groups (z = -Inf only in the unit)
s3 <- shmi_data(30); s3$o[c(4, 17)] <- 0
run_case("shmi_zero_observed_truncated", s3$o, s3$e, NULL, "SR")
run_case("shmi_zero_observed_unadjusted", s3$o, s3$e, NULL, "SR", adjusted = FALSE,
         unadjusted = TRUE)
s4 <- shmi_data(6); s4$o[2] <- 0
run_case("shmi_zero_observed_kept", s4$o, s4$e, NULL, "SR", note = "phi is Inf in R")
run_case("shmi_zero_observed_kept_unadjusted", s4$o, s4$e, NULL, "SR", adjusted = FALSE,
         unadjusted = TRUE)
# small expected counts (the SR grid starts at 1.1)
run_case("shmi_small_expected", c(0, 1, 2, 1, 3, 5, 2, 8, 1, 4, 0, 6),
         c(0.4, 0.75, 1.06, 1.5, 2.2, 3.1, 0.9, 6.2, 1.25, 2.8, 0.6, 5.5), NULL, "SR")
run_case("shmi_small_expected_unadjusted", c(0, 1, 2, 1, 3, 5, 2, 8, 1, 4, 0, 6),
         c(0.4, 0.75, 1.06, 1.5, 2.2, 3.1, 0.9, 6.2, 1.25, 2.8, 0.6, 5.5), NULL, "SR",
         adjusted = FALSE, unadjusted = TRUE)
run_case("shmi_max_expected_below_1.1", c(1, 0, 2), c(0.5, 0.8, 0.96), NULL, "SR",
         adjusted = FALSE, unadjusted = TRUE)
# poisson data: no over-dispersion, falls back
s5 <- shmi_data(60, 0); run_case("shmi_poisson_fallback", s5$o, s5$e, NULL, "SR")
# record-level SHMI: patients with predicted risks, summed per trust before rounding
tr <- sample(sprintf("RX%02d", 1:15), 1000, replace = TRUE)
p <- round(plogis(rnorm(1000, -2, 1)), 5); d <- rbinom(1000, 1, pmin(1, p * ifelse(tr == "RX03", 1.6, 1)))
run_case("shmi_record_level", d, p, tr, "SR")
run_case("shmi_record_level_x100_both", d, p, tr, "SR", multiplier = 100, unadjusted = TRUE)
run_case("shmi_all_truncated", s$o, s$e, NULL, "SR", trim_by = 0.5,
         note = "trim_by 0.5 truncates every group")
run_case("shmi_all_truncated_unadjusted", s$o, s$e, NULL, "SR", trim_by = 0.5,
         adjusted = FALSE, unadjusted = TRUE)

# --- standardised ratios, CQC (square root, winsorised) --------------------------------------
run_case("cqc_40", s$o, s$e, NULL, "SR", sr_method = "CQC")
run_case("cqc_40_x100", s$o, s$e, NULL, "SR", sr_method = "CQC", multiplier = 100)
run_case("cqc_40_both", s$o, s$e, NULL, "SR", sr_method = "CQC", unadjusted = TRUE)
run_case("cqc_40_unadjusted", s$o, s$e, NULL, "SR", sr_method = "CQC", adjusted = FALSE,
         unadjusted = TRUE)
for (tb in c(0, 0.05, 0.25)) run_case(sprintf("cqc_trim_%s", tb), s$o, s$e, NULL, "SR",
                                      sr_method = "CQC", trim_by = tb)
run_case("cqc_half_no_rounding", o_half, e_half, NULL, "SR", sr_method = "CQC")
run_case("cqc_zero_observed", s4$o, s4$e, NULL, "SR", sr_method = "CQC")
run_case("cqc_small_expected", c(0, 1, 2, 1, 3, 5, 2, 8, 1, 4, 0, 6),
         c(0.4, 0.75, 1.06, 1.5, 2.2, 3.1, 0.9, 6.2, 1.25, 2.8, 0.6, 5.5), NULL, "SR",
         sr_method = "CQC", unadjusted = TRUE)
run_case("cqc_poisson_fallback", s5$o, s5$e, NULL, "SR", sr_method = "CQC")
run_case("cqc_ties", o_t, e_t, NULL, "SR", sr_method = "CQC")

# --- ratios of counts ------------------------------------------------------------------------
a <- rpois(25, 60); b <- rpois(25, 80 * exp(rnorm(25, 0, 0.3)))
run_case("rc_25", a, b, NULL, "RC")
run_case("rc_25_x100_both", a, b, NULL, "RC", multiplier = 100, unadjusted = TRUE)
run_case("rc_25_unadjusted", a, b, NULL, "RC", adjusted = FALSE, unadjusted = TRUE)
run_case("rc_25_trim_0.25", a, b, NULL, "RC", trim_by = 0.25)
a2 <- rpois(30, 40); b2 <- rpois(30, 40)
run_case("rc_poisson", a2, b2, NULL, "RC")
run_case("rc_zero_numerators", c(0, 3, 0, 8, 12, 5, 9), c(10, 12, 8, 20, 25, 15, 30), NULL, "RC")
run_case("rc_all_zero", rep(0, 5), c(10, 12, 8, 20, 25), NULL, "RC",
         note = "target 0: every z is Inf")
run_case("rc_all_zero_unadjusted", rep(0, 5), c(10, 12, 8, 20, 25), NULL, "RC",
         adjusted = FALSE, unadjusted = TRUE)
run_case("rc_numerator_above_denominator", c(30, 5, 40, 12), c(10, 20, 15, 12), NULL, "RC")

# --- inputs FunnelPlotR does not guard ---------------------------------------------------------
run_case("bad_pr_numerator_above_denominator", c(5, 12, 3, 8), c(10, 10, 10, 10),
         c("A", "B", "C", "D"), "PR")
run_case("bad_pr_zero_denominator", c(0, 2, 3, 8), c(0, 10, 10, 10), c("A", "B", "C", "D"), "PR")
run_case("bad_sr_zero_expected", c(2, 2, 3, 8), c(0, 10, 10, 10), c("A", "B", "C", "D"), "SR")
run_case("bad_shmi_expected_rounds_to_zero", c(0, 2, 3, 8), c(0.004, 10, 10, 10),
         c("A", "B", "C", "D"), "SR")
run_case("bad_negative_numerator", c(-1, 2, 3, 8), c(10, 10, 10, 10), c("A", "B", "C", "D"), "PR")
run_case("bad_rc_zero_denominator", c(3, 2, 3, 8), c(0, 10, 10, 10), c("A", "B", "C", "D"), "RC")

write_fixture("../funnel_funnelplotr.json", "gen_funnel.R (hand-picked)")
