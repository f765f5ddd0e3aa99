const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const out = [];
for (const m of process.argv.slice(2)) { const t0 = cpu(); await import('/work/wt/startup/dist/' + m); out.push(m.replace('.js','') + ' ' + (cpu()-t0).toFixed(0)); }
console.log(out.join(' | '));
