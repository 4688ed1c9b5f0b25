package dev.scoreline.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scoreline.core.config.ConfigLoader;
import dev.scoreline.core.config.ProjectConfig;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.FeatureRegistry;
import dev.scoreline.core.model.ModelConfig;
import dev.scoreline.core.model.ModelRepository;
import dev.scoreline.core.surface.RankedList;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class QuickstartTest {
  @Test
  void build_sameSeedOneThread_identicalProjectFiles() throws IOException {
    DemoData a = SmallDemo.get();
    Path other = Path.of("target", "demo-small-1-thread");
    DemoData b =
        SmallDemo.build(other, SmallDemo.OPTIONS.withThreads(1), new ByteArrayOutputStream());
    List<Path> files = files(a.projectDir());
    assertThat(files(b.projectDir())).isEqualTo(files);
    assertThat(files)
        .contains(
            Path.of("scoreline.yaml"),
            Path.of("features/shop.yaml"),
            Path.of(ProjectWriter.MODEL),
            Path.of(ProjectWriter.MODEL_CONFIG),
            Path.of(ProjectWriter.SURFACE),
            Path.of(ProjectWriter.INTERACTIONS),
            Path.of("data/item_embeddings.fvecs"));
    for (Path f : files) {
      assertThat(Files.readAllBytes(other.resolve(f)))
          .as("%s", f)
          .isEqualTo(Files.readAllBytes(a.projectDir().resolve(f)));
    }
    assertThat(b.evaluation()).isEqualTo(a.evaluation());
    SmallDemo.delete(other);
  }

  @Test
  void build_otherSeed_otherModel() throws IOException {
    Path other = Path.of("target", "demo-small-seed-43");
    DemoData b =
        SmallDemo.build(
            other,
            new Quickstart.Options(600, 200, 6_000, 43, 2, 600),
            new ByteArrayOutputStream());
    assertThat(Files.readAllBytes(b.projectDir().resolve(ProjectWriter.MODEL)))
        .isNotEqualTo(
            Files.readAllBytes(SmallDemo.get().projectDir().resolve(ProjectWriter.MODEL)));
    SmallDemo.delete(other);
  }

  @Test
  void project_featureDefinitionsLoad() {
    FeatureRegistry r = FeatureRegistry.load(SmallDemo.get().projectDir());
    assertThat(r.entities()).containsOnlyKeys("user", "item");
    assertThat(r.views())
        .extracting(v -> v.name())
        .containsExactly("user_profile", "item_profile", "user_recent");
    assertThat(r.service("home-feed-user"))
        .containsExactly(
            new FeatureRef("user_profile", "embedding"),
            new FeatureRef("user_profile", "activity"),
            new FeatureRef("user_profile", "category_affinity"),
            new FeatureRef("user_recent", "recent_items"));
    assertThat(r.service("home-feed-item"))
        .extracting(FeatureRef::feature)
        .containsExactly("embedding", "category", "price", "popularity", "in_stock");
  }

  @Test
  void project_configAndModelRepositoryLoad() {
    Path dir = SmallDemo.get().projectDir();
    ProjectConfig config = ProjectConfig.load(dir);
    assertThat(config.onlineStore().type()).isEqualTo("rocksdb");
    assertThat(config.onlineStore().path()).isEqualTo(".scoreline/online");
    assertThat(config.offlineStore().type()).isEqualTo("duckdb");

    ModelRepository.Definition ranker = new ModelRepository(dir.resolve("models")).read("ranker");
    ModelConfig c = ranker.config();
    assertThat(c.maxBatchSize()).isGreaterThanOrEqualTo(200);
    assertThat(c.inputs())
        .singleElement()
        .satisfies(s -> assertThat(s.name()).isEqualTo("features"));
    assertThat(c.inputs().get(0).shape()).containsExactly(-1, RankerFeatures.WIDTH);
    assertThat(c.outputs().get(0).shape()).containsExactly(-1, 1);
    assertThat(ranker.versions()).containsOnlyKeys(1L);
    assertThat(ranker.versions().get(1L)).exists();
  }

  @Test
  @SuppressWarnings("unchecked")
  void surface_declaresTheTrainingColumnsAndPriceConstants() throws IOException {
    DemoData d = SmallDemo.get();
    ObjectMapper yaml = ConfigLoader.yamlMapper();
    Map<String, Object> surface =
        yaml.readValue(d.projectDir().resolve(ProjectWriter.SURFACE).toFile(), Map.class);
    assertThat(surface).containsEntry("name", "home-feed").containsEntry("mode", "two-stage");
    List<Map<String, Object>> inputs = (List<Map<String, Object>>) surface.get("inputs");
    List<Map<String, Object>> columns = (List<Map<String, Object>>) inputs.get(0).get("columns");
    assertThat(columns).hasSize(9);
    assertThat(columns.get(2))
        .containsEntry("standardize", "item_profile:price")
        .containsEntry("mean", d.features().priceMean)
        .containsEntry("std", d.features().priceStd);
    int width = 0;
    for (Map<String, Object> col : columns) {
      width += col.containsKey("size") ? ((Number) col.get("size")).intValue() : 1;
    }
    assertThat(width).isEqualTo(RankerFeatures.WIDTH);
    Map<String, Object> candidates = (Map<String, Object>) surface.get("candidates");
    assertThat(candidates)
        .containsEntry("snapshot", DemoData.CANDIDATES_SNAPSHOT)
        .containsEntry("index", DemoData.INDEX_DIR)
        .containsEntry("limit", DemoData.CANDIDATES);
  }

  @Test
  void candidates_excludeSeenItems_bestFirst() {
    DemoData d = SmallDemo.get();
    Shop shop = d.shop();
    for (long user : new long[] {1, 2, 500, d.users()}) {
      RankedList list = d.candidates(user);
      assertThat(list.size()).isEqualTo(DemoData.CANDIDATES);
      Set<Long> seen = new HashSet<>();
      int u = Shop.userIndex(user);
      for (int p = shop.trainStart(u); p <= shop.rankPosition(u); p++) {
        seen.add(Shop.itemId(shop.interactionItem[p]));
      }
      for (int i = 0; i < list.size(); i++) {
        assertThat(seen).doesNotContain(list.ids()[i]);
        if (i > 0) {
          assertThat(list.scores()[i]).isLessThanOrEqualTo(list.scores()[i - 1]);
        }
        // the score is the ranker's column 0
        int item = Shop.itemIndex(list.ids()[i]);
        float[] row = new float[RankerFeatures.WIDTH];
        d.features().fill(u, item, 0, row, 0);
        assertThat(list.scores()[i]).isEqualTo(row[RankerFeatures.COL_DOT]);
      }
    }
  }

  @Test
  void popular_mostInteractedFirst() {
    RankedList popular = SmallDemo.get().popular();
    assertThat(popular.size()).isEqualTo(DemoData.POPULAR);
    for (int i = 1; i < popular.size(); i++) {
      assertThat(popular.scores()[i]).isLessThanOrEqualTo(popular.scores()[i - 1]);
    }
    assertThat(SmallDemo.get().itemEmbeddings()).hasNumberOfRows(SmallDemo.get().items());
  }

  @Test
  void log_namesEveryStepWithItsTime() {
    String log = SmallDemo.log();
    assertThat(log)
        .contains("generate shop")
        .contains("train embeddings (implicit ALS)")
        .contains("candidates (top-200")
        .contains("train ranker")
        .contains("export ranker to ONNX")
        .contains("evaluate")
        .contains("write project")
        .contains("| two-stage (ALS top-200 -> ranker) |")
        .contains("demo data ready in");
    assertThat(SmallDemo.get().timings()).containsKey("total");
  }

  private static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> out = new ArrayList<>();
      for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
        out.add(dir.relativize(p));
      }
      return out;
    }
  }
}
