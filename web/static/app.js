// Progressive enhancement only: every form works without this file.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!box.classList || !box.classList.contains("show-password")) return;
  const field = document.getElementById(box.dataset.target);
  if (field) field.type = box.checked ? "text" : "password";
});
