import { initBackend, tf, twoMoons, grid2d, parzenClassifier, oneHotLabels, nadarayaWatson, loadIris } from "attention-pooling";
(async () => {
  await initBackend();
  const moons = twoMoons();
  const T: Record<string, number> = {};
  const tick = (k: string, t0: number) => { T[k] = (T[k] ?? 0) + Date.now() - t0; };
  function decisions(rows: tf.Tensor2D): Int32Array {
    const [top, index] = tf.tidy(() => { const t = tf.topk(rows, 2); return [t.values, t.indices]; });
    const v = top.dataSync(), i = index.dataSync();
    tf.dispose([top, index]);
    return Int32Array.from({ length: rows.shape[0] }, (_, r) => (v[2 * r] > v[2 * r + 1] ? i[2 * r] : -1));
  }
  const c0 = process.cpuUsage();
  for (const data of [moons, moons, loadIris({ features: ["petal_length", "petal_width"], species: ["versicolor", "virginica"] }), loadIris({ features: ["petal_length", "petal_width"] })]) {
    let t = Date.now();
    const grid = grid2d(data.points, { steps: 150 }); tick("grid", t); t = Date.now();
    const parzen = parzenClassifier(data.points, data.labels, grid.points, "gaussian", { sigma: 0.2 }); tick("parzen", t); t = Date.now();
    const values = oneHotLabels(data.labels);
    const { predictions } = nadarayaWatson(data.points, values, grid.points, "gaussian", { sigma: 0.2 }); tick("nw", t); t = Date.now();
    decisions(parzen.logJoint); decisions(predictions as tf.Tensor2D); tick("decisions", t); t = Date.now();
    const margins = tf.tidy(() => { const t = tf.topk(predictions, 2).values; return tf.sub(tf.slice(t, [0, 0], [-1, 1]), tf.slice(t, [0, 1], [-1, 1])); });
    const margin = margins.dataSync(); Math.min(...margin); tick("margins", t);
  }
  const cu = process.cpuUsage(c0);
  console.log(tf.getBackend(), T, "cpu", (cu.user + cu.system) / 1000);
})();
