# Cross-check against an independent PyTorch implementation (bench/squeezenas_torch.py): one small
# published net (lat_small, random seeded weights with random BN statistics, random 1x3x784x1568 input),
# sqnrun's logits within 1e-4 of max|logit|. The full six-net check is bench/crosscheck_torch.sh.
# Skipped (exit 77) when /usr/bin/python3 cannot import torch.
add_test(NAME torch_crosscheck_lat_small
         COMMAND env PYTHON=/usr/bin/python3 SQNC=$<TARGET_FILE:sqnc> SQNRUN=$<TARGET_FILE:sqnrun>
                 bash ${PROJECT_SOURCE_DIR}/bench/crosscheck_torch.sh --nets lat_small --threads 2 --tol 1e-4)
set_tests_properties(torch_crosscheck_lat_small PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
