# PEFT interop on the GPU machine (it has transformers + peft): a tpv-written adapter must load with
# PeftModel.from_pretrained, and an adapter saved by PEFT must load in tpv (checked by the caller).
import json, os, subprocess, sys
import torch
from transformers import T5Config, T5ForConditionalGeneration
from peft import PeftModel, PromptTuningConfig, TaskType, get_peft_model

g, out = sys.argv[1], sys.argv[2]
cfg = T5Config(vocab_size=512, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4)
base = T5ForConditionalGeneration(cfg)
peft_dir = os.path.join(out, "peft_saved")
model = get_peft_model(base, PromptTuningConfig(task_type=TaskType.SEQ_2_SEQ_LM, num_virtual_tokens=10, token_dim=64))
model.save_pretrained(peft_dir)
table = model.get_prompt_embedding_to_save("default")
# Round trip through tpv's vector CLI: import the PEFT folder as a prompt, apply λ=1 of a zero vector.
tpv_dir = os.path.join(out, "tpv_saved")
r = subprocess.run([os.path.join(g, "node"), os.path.join(g, "tpv.mjs"), "vector", "create", "--tuned", peft_dir, "--origin", peft_dir,
                    "--task", "x", "--model-id", "tiny", "--out", os.path.join(out, "zero.tpv")], capture_output=True, text=True)
print(r.stdout, r.stderr)
r = subprocess.run([os.path.join(g, "node"), os.path.join(g, "tpv.mjs"), "vector", "apply", os.path.join(out, "zero.tpv"), "--origin", peft_dir,
                    "--lambda", "1", "--out", tpv_dir, "--force"], capture_output=True, text=True)
print(r.stdout, r.stderr)
loaded = PeftModel.from_pretrained(T5ForConditionalGeneration(cfg), tpv_dir)
t2 = loaded.get_prompt_embedding_to_save("default")
print(json.dumps({"peft_loads_tpv_adapter": True, "bit_identical": bool(torch.equal(table.cpu(), t2.cpu()))}))
